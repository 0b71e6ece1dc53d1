from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web UI: pages, templates and static files."""

    name = "fleet.web"
    label = "web"
    verbose_name = "Web UI"
