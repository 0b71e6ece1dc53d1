"""The API's URLs: the router's viewsets, the OpenAPI schema, and its documentation page (served offline)."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from fleet.api import sshkeys, views

router = DefaultRouter()
router.register("instances", views.InstanceViewSet, basename="instance")
router.register("clusters", views.ClusterViewSet, basename="cluster")
router.register("groups", views.NodeGroupViewSet, basename="group")
router.register("nodes", views.NodeViewSet, basename="node")
router.register("networks", views.NetworkViewSet, basename="network")
router.register("jobs", views.JobViewSet, basename="job")
router.register("operations", views.OperationViewSet, basename="operation")
router.register("ssh-keys", sshkeys.SshKeyViewSet, basename="ssh-key")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include((router.urls, "api"))),
]
