"""The URL table: the API under /api/, the pages everywhere else."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", include("fleet.api.urls")),
    path("", include("fleet.web.urls")),
]

handler404 = "fleet.conf.errors.not_found"
handler500 = "fleet.conf.errors.server_error"
