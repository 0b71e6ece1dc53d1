"""What the database-backed commands share: setting Django up when they run (never at import, so that
`fleet simulate` and `fleet rapi` need no configuration), and plain-text tables."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def setup() -> None:
    """Configure Django with Fleet's settings (unless DJANGO_SETTINGS_MODULE names others); a bad
    configuration becomes one line naming the setting."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.conf.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise click.ClickException(f"configuration error: {exc}") from exc


def with_django(func: F) -> F:
    """Set Django up before the command runs."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        setup()
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns padded to their widest cell."""
    cells = [[str(h) for h in headers], *[["" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
