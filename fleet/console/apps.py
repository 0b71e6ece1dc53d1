from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """Console sessions (the tokens the proxy claims) and the clusters' VNC passwords."""

    name = "fleet.console"
    label = "console"
    verbose_name = "Consoles"
