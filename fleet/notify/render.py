"""Mail templates: files shipped in this package, rendered with the caller's values.

A mail named ``confirm`` is ``templates/notify/confirm.txt``, whose first line is the subject (a template of
its own, rendered on one line whatever the values hold) and the rest the plain-text body, and optionally
``templates/notify/confirm.html``, an HTML alternative. Templates are
only ever read from these files: the values of the context are substituted, never compiled, so a VM name
holding ``{{`` or ``{%`` is mailed as it is. The text is rendered without HTML escaping (a plain-text mail
shows ``<`` as ``<``), the HTML with it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.template import Context, Engine, Template, TemplateDoesNotExist

TEMPLATE_DIR = Path(__file__).parent / "templates"
_NAME = re.compile(r"[a-z0-9_]+(/[a-z0-9_]+)*")

# Engines of their own: only this package's files, and escaping chosen per part, whatever the site's
# TEMPLATES setting says (a Template rendered directly escapes as its Context says, so each render says too).
_TEXT = Engine(dirs=[str(TEMPLATE_DIR)], autoescape=False)
_HTML = Engine(dirs=[str(TEMPLATE_DIR)], autoescape=True)


class TemplateError(ValueError):
    """The template named does not exist, or gives no subject: a programming error, refused at once."""


@dataclass(frozen=True)
class Rendered:
    """A mail's parts as they are queued."""

    subject: str
    body: str
    html: str


def render(template: str, context: Mapping[str, Any]) -> Rendered:
    """Render the mail ``template`` (``notify/<template>.txt``, and ``.html`` if present) with ``context``."""
    if not _NAME.fullmatch(template):
        raise TemplateError(f"{template!r} is not a mail template name (lower case, digits, _ and /)")
    subject_template, body_template = _text_parts(template)
    text_context = Context(dict(context), autoescape=False)
    # One header line, whatever the values hold: a value cannot add headers (Bcc:) to the mail.
    subject = " ".join(subject_template.render(text_context).split())
    if not subject:
        raise TemplateError(f"mail template {template!r} gives no subject: its first line is the subject")
    body = body_template.render(text_context)
    try:
        html = _HTML.get_template(f"notify/{template}.html").render(Context(dict(context), autoescape=True))
    except TemplateDoesNotExist:
        html = ""
    return Rendered(subject=subject, body=body.lstrip("\n"), html=html)


@functools.cache
def _text_parts(template: str) -> tuple[Template, Template]:
    """The subject line and the body of ``notify/<template>.txt``, each compiled from the file once."""
    try:
        source = _TEXT.get_template(f"notify/{template}.txt").source
    except TemplateDoesNotExist:
        raise TemplateError(f"there is no mail template {template!r} (notify/{template}.txt)") from None
    first, _, rest = source.partition("\n")
    return _TEXT.from_string(first), _TEXT.from_string(rest)
