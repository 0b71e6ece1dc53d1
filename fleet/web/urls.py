"""The pages' URLs. Cluster, node and instance names are Ganeti's (host names), so they sit in the path
(``fleet.web.names``)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, register_converter
from django.views.generic import RedirectView

from fleet.web.names import NameConverter
from fleet.web.views import (
    account,
    applications,
    clusters,
    confirmations,
    console,
    instances,
    jobs,
    nodes,
    operations,
    owner_names,
    sshkeys,
)


class JobIdConverter:
    """A Ganeti job id: a whole number that fits every database's 64-bit integer."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(JobIdConverter, "jobid")
register_converter(NameConverter, "name")

urlpatterns = [
    path("", instances.InstanceList.as_view(), name="instance-list"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens/", account.ApiTokens.as_view(), name="api-tokens"),
    path("account/keys/", sshkeys.SshKeys.as_view(), name="ssh-keys"),
    path("account/token/", RedirectView.as_view(pattern_name="api-tokens", permanent=True)),
    path("instances/<name:cluster>/<name:name>/", instances.InstanceDetail.as_view(), name="instance-detail"),
    path(
        "instances/<name:cluster>/<name:name>/operation/",
        operations.InstanceOperation.as_view(),
        name="instance-operation",
    ),
    path(
        "instances/<name:cluster>/<name:name>/owner-names/",
        owner_names.OwnerNames.as_view(),
        name="instance-owner-names",
    ),
    path(
        "instances/<name:cluster>/<name:name>/console/",
        console.ConsolePage.as_view(),
        name="instance-console",
    ),
    path(
        "instances/<name:cluster>/<name:name>/console/token/",
        console.ConsoleToken.as_view(),
        name="instance-console-token",
    ),
    path("console/<uuid:session>/", console.ConsoleStatus.as_view(), name="console-status"),
    path("applications/", applications.ApplicationList.as_view(), name="application-list"),
    path("applications/new/", applications.ApplicationCreate.as_view(), name="application-create"),
    path("applications/<int:pk>/", applications.ApplicationDetail.as_view(), name="application-detail"),
    path("applications/<int:pk>/edit/", applications.ApplicationEdit.as_view(), name="application-edit"),
    path(
        "applications/<int:pk>/review/", applications.ApplicationReview.as_view(), name="application-review"
    ),
    path("audit/", operations.AuditLog.as_view(), name="audit-log"),
    path("confirm/<str:token>/", confirmations.ConfirmAction.as_view(), name="confirm-action"),
    path("clusters/", clusters.ClusterList.as_view(), name="cluster-list"),
    path("clusters/<name:name>/", clusters.ClusterDetail.as_view(), name="cluster-detail"),
    path("nodes/", nodes.NodeList.as_view(), name="node-list"),
    path("jobs/", jobs.JobList.as_view(), name="job-list"),
    path("jobs/<name:cluster>/<jobid:job_id>/", jobs.JobDetail.as_view(), name="job-detail"),
]
