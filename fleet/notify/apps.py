from django.apps import AppConfig


class NotifyConfig(AppConfig):
    """Mail: an outbox the worker sends from with retries, templates shipped as files, and the archive."""

    name = "fleet.notify"
    label = "notify"
    verbose_name = "Mail"
