"""The URL table: the API under /api/, Prometheus's /metrics, the pages everywhere else."""

from django.urls import URLPattern, URLResolver, include, path

from fleet.metrics.views import metrics

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", include("fleet.api.urls")),
    path("metrics", metrics, name="metrics"),
    path("", include("fleet.web.urls")),
]

handler404 = "fleet.conf.errors.not_found"
handler500 = "fleet.conf.errors.server_error"
