from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What users asked Fleet to do: recorded, then submitted as Ganeti jobs and followed to their end."""

    name = "fleet.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Each action module registers the calls of its kinds (fleet.operations.calls); the worker, which
        # sends them, imports no action itself.
        from fleet.operations import (  # noqa: F401
            cancel,
            configuration,
            creation,
            isolation,
            lifecycle_actions,
            power,
            tagging,
        )
