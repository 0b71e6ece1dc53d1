"""Django's management commands (migrate, shell, ...) with Fleet's settings unless told otherwise."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``django-admin`` with ``argv`` (by default the process's own), e.g. ``main(["migrate"])``.

    A bad configuration ends the process with one line naming the setting, not a traceback.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleet.conf.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 -- loads and checks the configuration now
    except ImproperlyConfigured as exc:
        sys.exit(f"fleet: configuration error: {exc}")
    execute_from_command_line(["fleet manage", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
