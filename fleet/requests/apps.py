from django.apps import AppConfig


class RequestsConfig(AppConfig):
    """Getting a VM: users' SSH keys, applications, their review and the creation they lead to."""

    name = "fleet.requests"
    label = "requests"
    verbose_name = "VM applications"

    def ready(self) -> None:
        # An approved application's create closes the application when it ends: fleet.operations calls
        # back, knowing nothing of applications.
        from fleet.operations import hooks
        from fleet.operations.models import OperationKind
        from fleet.requests.applications import creation_ended

        hooks.on_end(OperationKind.CREATE, creation_ended)
