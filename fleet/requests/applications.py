"""An application's life: submitted by a user, reviewed (approved with a placement, or refused with a
reason), withdrawn by its applicant. Each step is one transaction with the mails it causes, so a step that
fails sends nothing; the reviewers' and the applicant's mails carry a link to the page that acts."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from fleet import operations
from fleet.access.actions import Permission
from fleet.inventory.models import Cluster
from fleet.notify import mail
from fleet.operations.models import Operation, OperationKind, OperationStatus
from fleet.requests.creation import NotPlaceable, create_spec
from fleet.requests.models import Application, ApplicationStatus

REVIEWABLE = (ApplicationStatus.PENDING, ApplicationStatus.FAILED)


class NotNow(Exception):
    """The application is not in a state that allows this step; the message says which it is in."""


def link(name: str, application: Application) -> str:
    return str(settings.FLEET_SITE_URL).rstrip("/") + reverse(name, args=[application.pk])


def reviewers() -> list[Any]:
    """The active accounts that hold "review applications" (superusers hold every permission) and have an
    address to mail."""
    app_label, codename = Permission.REVIEW_APPLICATION.value.split(".")
    holds = Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label) | Q(
        groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label
    )
    users = get_user_model().objects.filter(Q(is_superuser=True) | holds, is_active=True).exclude(email="")
    return list(users.distinct().order_by("username"))


def may_review(user: Any) -> bool:
    return bool(user.is_active and user.has_perm(Permission.REVIEW_APPLICATION.value))


def _tell_reviewers(application: Application, template: str) -> None:
    context = {"application": application, "link": link("application-review", application)}
    for reviewer in reviewers():  # one mail each: no reviewer sees the others' addresses
        mail.send(template, to=[reviewer.email], context=context)


@transaction.atomic
def submit(application: Application) -> Application:
    """Store a new (or edited failed) application as pending and mail the reviewers a link to it."""
    application.status = ApplicationStatus.PENDING
    application.error = ""
    application.save()
    _tell_reviewers(application, "application_new")
    return application


@transaction.atomic
def refuse(application: Application, reviewer: Any, reason: str) -> Application:
    """Refuse ``application``, mailing its applicant the reason."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status not in REVIEWABLE:
        raise NotNow(f"This application is {application.get_status_display()}; it can no longer be refused.")
    application.status = ApplicationStatus.REFUSED
    application.reviewer, application.reviewed_at = reviewer, timezone.now()
    application.review_comment = reason
    application.save()
    if application.applicant.email:
        mail.send(
            "application_refused",
            to=[application.applicant.email],
            context={"application": application, "link": link("application-detail", application)},
        )
    return application


@transaction.atomic
def approve(
    application: Application,
    reviewer: Any,
    *,
    cluster: Cluster,
    node_group: str,
    disk_template: str,
    network: str,
    comment: str = "",
) -> Application:
    """Approve ``application`` for ``cluster`` (and ``node_group``), recording the placement, and record its
    creation as an operation of the reviewer's (``fleet.operations.create``): the worker submits it, and
    :func:`creation_ended` closes the application when its job ends."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status not in REVIEWABLE:
        raise NotNow(f"This application is {application.get_status_display()}; it can no longer be approved.")
    application.status = ApplicationStatus.APPROVED
    application.reviewer, application.reviewed_at = reviewer, timezone.now()
    application.review_comment = comment
    application.cluster, application.node_group = cluster, node_group
    application.disk_template, application.network = disk_template, network
    application.error = ""
    application.operation = _create(application, reviewer)
    application.status = ApplicationStatus.SUBMITTED
    application.save()
    return application


def _create(application: Application, reviewer: Any) -> Operation:
    """Record the creation of the approved ``application``. The idempotency key names the application and
    its approval, so that the same approval recorded twice is one operation, and a new approval (after a
    failure) is a new one."""
    try:
        spec = create_spec(application, storage=settings.FLEET_STORAGE, prefix=settings.FLEET_TAG_PREFIX)
    except NotPlaceable as exc:
        raise NotNow(f"This application cannot be created there: {exc}.") from None
    earlier = Operation.objects.filter(kind=OperationKind.CREATE, params__application=application.pk)
    key = f"application {application.pk} approval {earlier.count() + 1}"
    by = operations.Caller(user=reviewer, idempotency_key=key)
    reason = f"application {application.pk} of {application.applicant.get_username()}"
    params = {"application": application.pk, "applicant": application.applicant.get_username()}
    try:
        return operations.create(application.cluster, by=by, spec=spec, params=params, reason=reason)
    except operations.Refused as exc:
        raise NotNow(str(exc)) from None


def creation_ended(operation: Operation) -> None:
    """The create of an application ended (an end hook of ``fleet.operations``): succeeded, the applicant
    is mailed (the VM is theirs by its owner tag, in their list once the cluster is read again); failed,
    the application is failed with Ganeti's error, which the reviewers are mailed, and it can be edited and
    submitted again."""
    application = (
        Application.objects.select_for_update()
        .filter(operation_id=operation.pk)
        .select_related("applicant")
        .first()
    )
    if application is None:  # not an application's (or an earlier approval's)
        return
    if operation.status == OperationStatus.SUCCEEDED:
        application.status, application.error = ApplicationStatus.SUCCEEDED, ""
        application.save()
        if application.applicant.email:
            mail.send(
                "application_created",
                to=[application.applicant.email],
                context={"application": application, "link": link("application-detail", application)},
            )
        return
    application.status = ApplicationStatus.FAILED
    application.error = operation.error or f"The creation ended {operation.get_status_display().lower()}."
    application.save()
    _tell_reviewers(application, "application_failed")


@transaction.atomic
def withdraw(application: Application) -> Application:
    """The applicant takes back an application not yet on its way to a cluster."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status not in (ApplicationStatus.PENDING, ApplicationStatus.FAILED):
        raise NotNow(
            f"This application is {application.get_status_display()}; it can no longer be withdrawn."
        )
    application.status = ApplicationStatus.WITHDRAWN
    application.save()
    return application
