from django.apps import AppConfig


class TokensConfig(AppConfig):
    """API tokens that scripts and automation present to the REST API."""

    name = "fleet.tokens"
    label = "tokens"
    verbose_name = "API tokens"
