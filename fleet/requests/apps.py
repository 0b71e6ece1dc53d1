from django.apps import AppConfig


class RequestsConfig(AppConfig):
    """Getting a VM: users' SSH keys, applications, their review and the creation they lead to."""

    name = "fleet.requests"
    label = "requests"
    verbose_name = "VM applications"
