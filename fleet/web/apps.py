from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web UI: pages, templates and static files."""

    name = "fleet.web"
    label = "web"
    verbose_name = "Web UI"

    def ready(self) -> None:
        from django.core.signals import request_started

        from fleet.web.sessions import forget_session_user

        request_started.connect(forget_session_user, dispatch_uid="fleet.web.sessions")
