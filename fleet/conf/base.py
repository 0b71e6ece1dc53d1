"""Django settings built from a checked :class:`~fleet.conf.config.Config`.

``settings.py`` (production) and ``testing.py`` (the test suite) differ only in where their ``Config`` comes
from; everything Django needs is derived here, once.
"""

from __future__ import annotations

from typing import Any

from fleet.conf.config import Config
from fleet.conf.deployment import deployment_settings
from fleet.conf.mail import mail_settings

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "fleet.access",
    "fleet.inventory",
    "fleet.jobs",
    "fleet.notify",
    "fleet.operations",
    "fleet.requests",
    "fleet.tokens",
    "fleet.console",
    "fleet.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files from STATIC_ROOT, without a separate server
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
                "fleet.web.context.fleet",
            ],
        },
    },
]


STALE_AFTER_SECONDS = 600
"""A cluster not synced for this long is flagged as stale on every page."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fleet.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every view, including the write endpoints to come, refuses unsafe methods to read-only tokens.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "fleet.api.authentication.TokenScope",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "fleet.api.pagination.Pagination",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],  # the API speaks JSON only
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "fleet.api.schema.FleetSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Fleet API",
    "DESCRIPTION": (
        "Fleet's view of its Ganeti clusters (instances, clusters, node groups, nodes, networks, jobs and "
        "the audit log of operations), and the actions on instances and jobs, each recorded as an operation "
        "that the worker submits as a Ganeti job. Authenticate with `Authorization: Token <key>` or "
        "`Authorization: Bearer <key>`: each user makes theirs on the web UI's API tokens page, each named, "
        "scoped (`read`, or `write`: read and write) and expiring; a read token is refused every method but "
        "GET, HEAD and OPTIONS with 403. Every list takes the same filters as the web pages, `page` and "
        "`page_size` (20, 50 or 100), and shows only what the caller may see."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # the disks' and the CD-ROM's bus take the same values (the CD-ROM's also "")
    "ENUM_NAME_OVERRIDES": {"DiskTypeEnum": "fleet.operations.configuration.DISK_TYPES"},
}


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
        "LOGIN_URL": "login",
        "LOGIN_REDIRECT_URL": "instance-list",
        "LOGOUT_REDIRECT_URL": "login",
        # a page reads its session and the session's user in one statement (fleet.web.sessions)
        "SESSION_ENGINE": "fleet.web.sessions",
        "AUTHENTICATION_BACKENDS": ["fleet.web.sessions.SessionUserBackend"],
        "REST_FRAMEWORK": REST_FRAMEWORK,
        "SPECTACULAR_SETTINGS": SPECTACULAR_SETTINGS,
        "FLEET_STALE_AFTER_SECONDS": STALE_AFTER_SECONDS,
        "FLEET_API_TOKEN_MAX_DAYS": config.api_tokens.max_days,
        "FLEET_API_TOKEN_ALLOW_NO_EXPIRY": config.api_tokens.allow_no_expiry,
        "FLEET_SITE_URL": config.site_url,
        "FLEET_CONFIRM_MINUTES": config.confirm_minutes,
        # where browsers reach `fleet console-proxy` (ws:// or wss://; "" : no console button), and how long
        # a console token lives
        "FLEET_CONSOLE_URL": config.console_url,
        "FLEET_CONSOLE_TOKEN_SECONDS": config.console_token_seconds,
        # HTTPS, password rules and logging (fleet.conf.deployment)
        **deployment_settings(config),
        # the SMTP server and the admins' addresses (fleet.conf.mail)
        **mail_settings(config.mail),
        # which CD image URLs owners may boot from (fleet.conf.cdrom)
        "FLEET_CDROM": config.cdrom,
        # who may read /metrics (fleet.conf.metrics)
        "FLEET_METRICS": config.metrics,
        # what users may apply for: storage classes and limits (fleet.conf.storage)
        "FLEET_STORAGE": config.storage,
        "FLEET_LIMITS": config.limits,
    }
