from django.apps import AppConfig


class AccessConfig(AppConfig):
    """Fleet's authorization; its named permissions (``access.view_all``, ``access.lock_instance``...)."""

    name = "fleet.access"
    label = "access"
    verbose_name = "Access"
