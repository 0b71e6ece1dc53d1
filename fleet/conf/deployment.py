"""The Django settings a production site needs beyond the application's own: HTTPS (cookies, HSTS, the proxy's
header, trusted origins), password rules and logging, derived from the checked configuration.

With the defaults, `fleet manage check --deploy` reports only the two HSTS choices that commit the whole
domain (``hsts_include_subdomains``, ``hsts_preload``), which the operator makes.
"""

from __future__ import annotations

from typing import Any

from fleet.conf.config import Config, Https

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_LIBRARIES = ("httpx", "httpcore")  # they log every request at INFO; fleet.rapi logs them at DEBUG


def deployment_settings(config: Config) -> dict[str, Any]:
    """HTTPS, password and logging settings for ``config``."""
    return {
        **https_settings(config.https),
        "AUTH_PASSWORD_VALIDATORS": password_validators(config.password_min_length),
        "LOGGING": logging_settings(config.log_level, config.log_levels),
    }


def https_settings(https: Https) -> dict[str, Any]:
    """Secure cookies, the redirect to HTTPS, HSTS and what a TLS reverse proxy tells Django."""
    header = https.proxy_ssl_header
    return {
        "SESSION_COOKIE_SECURE": https.secure_cookies,
        "CSRF_COOKIE_SECURE": https.secure_cookies,
        "SECURE_SSL_REDIRECT": https.ssl_redirect,
        "SECURE_HSTS_SECONDS": https.hsts_seconds,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": https.hsts_include_subdomains,
        "SECURE_HSTS_PRELOAD": https.hsts_preload,
        "SECURE_PROXY_SSL_HEADER": (
            None if header is None else ("HTTP_" + header.upper().replace("-", "_"), "https")
        ),
        "CSRF_TRUSTED_ORIGINS": list(https.csrf_trusted_origins),
    }


def password_validators(min_length: int) -> list[dict[str, Any]]:
    """Django's four validators: unlike the user's name and e-mail, long enough, not common, not digits."""
    return [
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": min_length},
        },
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ]


def logging_settings(level: str, levels: dict[str, str]) -> dict[str, Any]:
    """One line per event on standard error (journald or the process's log file keeps it), at ``level``,
    with per-logger exceptions; request errors and tracebacks of the web server included."""
    loggers: dict[str, dict[str, Any]] = {name: {"level": "WARNING"} for name in QUIET_LIBRARIES}
    loggers["django"] = {"handlers": []}  # Django's own console handler would print its lines twice
    loggers |= {name: {"level": value} for name, value in levels.items()}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"format": LOG_FORMAT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": loggers,
    }
