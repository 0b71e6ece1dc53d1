"""Django settings for the test suite: fixed keys, and the database from ``FLEET_DATABASE_URL`` if set.

Without ``FLEET_DATABASE_URL`` the tests run on SQLite in memory; with a ``postgresql://`` URL they run on
that server (pytest-django creates and drops a ``test_<name>`` database, so the role needs CREATEDB).
"""

import os

from fleet.conf.base import django_settings
from fleet.conf.config import load

_TEST_ENVIRONMENT = {
    "FLEET_SECRET_KEY": "test-only-secret-key-that-signs-nothing-of-value-0123456789",
    "FLEET_CREDENTIALS_KEY": "ZmxlZXQtdGVzdC1rZXktbm90LWZvci1wcm9kdWN0aW8=",
    "FLEET_DATABASE_URL": "sqlite://:memory:",
    # The test client and live servers speak plain http.
    "FLEET_SECURE_COOKIES": "false",
    "FLEET_SSL_REDIRECT": "false",
}
_PASSED_THROUGH = ("FLEET_DATABASE_URL", "FLEET_TAG_PREFIX")

globals().update(
    django_settings(
        load(_TEST_ENVIRONMENT | {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ})
    )
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The tests collect no static files: WhiteNoise finds them in the apps, as under DEBUG.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
