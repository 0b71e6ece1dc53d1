"""Django settings built from a checked :class:`~fleet.conf.config.Config`.

``settings.py`` (production) and ``testing.py`` (the test suite) differ only in where their ``Config`` comes
from; everything Django needs is derived here, once.
"""

from __future__ import annotations

from typing import Any

from fleet.conf.config import Config

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "fleet.inventory",
    "fleet.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def django_settings(config: Config) -> dict[str, Any]:
    """The Django settings for ``config``, as a dict for a settings module's globals."""
    return {
        "FLEET_DATA_DIR": config.data_dir,
        "FLEET_TAG_PREFIX": config.tag_prefix,
        "FLEET_CREDENTIALS_KEYS": config.credentials_keys,
        "SECRET_KEY": config.secret_key,
        "DEBUG": config.debug,
        "ALLOWED_HOSTS": list(config.allowed_hosts),
        "DATABASES": {"default": config.database},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "INSTALLED_APPS": list(INSTALLED_APPS),
        "MIDDLEWARE": list(MIDDLEWARE),
        "TEMPLATES": TEMPLATES,
        "ROOT_URLCONF": "fleet.conf.urls",
        "USE_TZ": True,
        "TIME_ZONE": config.time_zone,
        "LANGUAGE_CODE": "en-us",
        "USE_I18N": True,
        "STATIC_URL": "static/",
        "STATIC_ROOT": str(config.data_dir / "static"),
    }
