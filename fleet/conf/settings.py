"""Fleet's Django settings: the checked configuration from ``FLEET_CONFIG`` and the ``FLEET_*`` variables.

Importing this module fails with the name of the first missing or malformed setting; ``example.toml``
beside it lists them all.
"""

import os

from fleet.conf.base import django_settings
from fleet.conf.config import load

_config = load(os.environ)
_config.data_dir.mkdir(parents=True, exist_ok=True)  # the embedded SQLite database lives there by default
globals().update(django_settings(_config))
