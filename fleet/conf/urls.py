"""The URL table. Pages and the API add their own includes here as they arrive."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
