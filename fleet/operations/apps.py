from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What users asked Fleet to do: recorded, then submitted as Ganeti jobs and followed to their end."""

    name = "fleet.operations"
    label = "operations"
    verbose_name = "Operations"
