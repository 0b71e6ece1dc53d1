"""The API's instance actions: ``POST /api/instances/{id}/{action}/``, each a call of ``fleet.operations``.

An action answers 202 with the operation it recorded (the worker submits it and follows its job; poll
``/api/operations/{id}/`` for the outcome). A retried request with the same ``Idempotency-Key`` header
answers with the same operation and submits nothing again; the same key on a different request is a 409. A
bad body (JSON only) is a 400 naming each field, ``{"field": ["what is wrong"]}``; a refused action is a 403
(not allowed) or a 409 (not now: the instance's state, or something under way on it), with the reason and the
refusal's record; an instance the caller may not see is a 404.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.status import HTTP_202_ACCEPTED, HTTP_403_FORBIDDEN, HTTP_409_CONFLICT

from fleet import operations
from fleet.access import policy
from fleet.api.lookups import instance_lookup
from fleet.api.serializers.operations import (
    AllowFromChangeSerializer,
    DeisolateSerializer,
    DestroySerializer,
    IsolateSerializer,
    MigrateSerializer,
    ModifySerializer,
    OperationSerializer,
    OwnerChangeSerializer,
    ReasonSerializer,
    RebootSerializer,
    ReinstallSerializer,
    RenameSerializer,
    ShutdownSerializer,
)
from fleet.inventory.models import Instance
from fleet.jobs.models import Job
from fleet.operations.callers import caller_from_request
from fleet.operations.core import NOT_FOUND
from fleet.operations.models import Operation, Via

NOT_FOUND_JOB = "No job matches the given query."
Body = type[serializers.Serializer]  # type: ignore[type-arg]
Perform = Callable[..., Operation]  # an action of fleet.operations: (instance, *, by, **fields)


class RefusalSerializer(serializers.Serializer):  # type: ignore[type-arg]
    detail = serializers.CharField(help_text="Why the action was refused.")
    operation = OperationSerializer(
        required=False, help_text="The refusal, as the audit log records it (none for a read-only token)."
    )


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "maxLength": 255, "pattern": "^[ -~]*$"},  # printable, as fleet.operations.callers
    OpenApiParameter.HEADER,
    description="Any unique string of up to 255 printable ASCII characters: a retry with the same key is "
    "the same request.",
    pattern=r"^[ -~]{0,255}$",
)


def _schema(body: Body, summary: str) -> Callable[[Any], Any]:
    return extend_schema(
        summary=summary,
        request=body,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            202: OperationSerializer,
            400: OpenApiResponse(description="A field is wrong; the body names it."),
            403: OpenApiResponse(
                RefusalSerializer, description="Not allowed (the policy, a lock, maintenance)."
            ),
            404: OpenApiResponse(description="No such instance, or not yours."),
            409: OpenApiResponse(
                RefusalSerializer,
                description="Not now: its state, an operation under way, or an Idempotency-Key used before "
                "for another request.",
            ),
        },
    )


def _answer(
    request: Request, body_class: type[serializers.Serializer], perform: Callable[..., Operation]
) -> Response:  # type: ignore[type-arg]
    """Check the body, call ``perform(by=caller, **fields)``; the operation (202), or why not."""
    body = body_class(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        operation = perform(by=caller_from_request(request, Via.API), **body.validated_data)
    except operations.KeyReused as exc:  # the key's earlier request stands: a conflict, as for a busy VM
        detail = f"Idempotency-Key {exc.errors['idempotency_key']}."
        return Response({"detail": detail}, status=HTTP_409_CONFLICT)
    except operations.Invalid as exc:
        raise ValidationError({field: [message] for field, message in exc.errors.items()}) from None
    except operations.Refused as refused:
        record = OperationSerializer(refused.operation).data
        answer = {"detail": refused.operation.error, "operation": record}
        return Response(answer, status=HTTP_409_CONFLICT if refused.conflict else HTTP_403_FORBIDDEN)
    return Response(OperationSerializer(operation).data, status=HTTP_202_ACCEPTED)


class InstanceActions:
    """The POST actions of the instance viewset (mixed into it). Each body's fields are the keyword
    arguments of its ``fleet.operations`` function."""

    kwargs: dict[str, Any]
    records_refusals = True  # a read token's attempt is refused (and recorded) by fleet.operations

    def _act(self, request: Request, body_class: Body, perform: Perform) -> Response:
        # Found whoever may see it: the policy, in fleet.operations, records an attempt on an instance the
        # caller may not see before answering 404, as for one that does not exist.
        instance = (
            Instance.objects.select_related("cluster").filter(**instance_lookup(self.kwargs["pk"])).first()
        )
        if instance is None:
            raise Http404(NOT_FOUND)
        return _answer(request, body_class, functools.partial(perform, instance))

    @_schema(ReasonSerializer, "Start the instance")
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, ReasonSerializer, operations.start)

    @_schema(ShutdownSerializer, "Shut the instance down")
    @action(detail=True, methods=["post"])
    def shutdown(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, ShutdownSerializer, operations.shutdown)

    @_schema(RebootSerializer, "Reboot the instance")
    @action(detail=True, methods=["post"])
    def reboot(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, RebootSerializer, operations.reboot)

    @_schema(MigrateSerializer, "Migrate the running instance to its secondary node (administrators)")
    @action(detail=True, methods=["post"])
    def migrate(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, MigrateSerializer, operations.migrate)

    @_schema(ReasonSerializer, "Lock the instance: its owners' actions are refused (lock permission)")
    @action(detail=True, methods=["post"])
    def lock(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, ReasonSerializer, operations.lock)

    @_schema(ReasonSerializer, "Unlock the instance (lock permission)")
    @action(detail=True, methods=["post"])
    def unlock(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, ReasonSerializer, operations.unlock)

    @_schema(OwnerChangeSerializer, "Add or remove a co-owner: a user or a group")
    @action(detail=True, methods=["post"])
    def owners(self, request: Request, pk: str | None = None) -> Response:
        def change(instance: Instance, *, by: operations.Caller, change: str, **fields: Any) -> Operation:
            perform = operations.add_owner if change == "add" else operations.remove_owner
            return perform(instance, by=by, **fields)

        return self._act(request, OwnerChangeSerializer, change)

    @_schema(
        IsolateSerializer,
        "Isolate the instance from the network but for allow-from ranges (isolate permission)",
    )
    @action(detail=True, methods=["post"])
    def isolate(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, IsolateSerializer, operations.isolate)

    @_schema(DeisolateSerializer, "Reconnect an isolated instance (isolate permission)")
    @action(detail=True, methods=["post"])
    def deisolate(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, DeisolateSerializer, operations.deisolate)

    @_schema(AllowFromChangeSerializer, "Add or remove allow-from ranges of an isolated instance")
    @action(detail=True, methods=["post"], url_path="allow-from")
    def allow_from(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, AllowFromChangeSerializer, operations.change_allow_from)

    @_schema(ReasonSerializer, "Fail the instance over to its secondary node (administrators)")
    @action(detail=True, methods=["post"])
    def failover(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, ReasonSerializer, operations.failover)

    @_schema(ModifySerializer, "Change the configuration: CD image, boot device, NIC and disk models, memory")
    @action(detail=True, methods=["post"])
    def modify(self, request: Request, pk: str | None = None) -> Response:
        instance = Instance.objects.filter(**instance_lookup(self.kwargs["pk"])).first()
        if instance is not None and not policy.decide(request.user, policy.Action.MODIFY, instance):
            # The policy before the body: who may not change it learns nothing from the values it sends.
            return self._act(request, ReasonSerializer, operations.modify)
        return self._act(request, ModifySerializer, operations.modify)

    @_schema(ReinstallSerializer, "Reinstall the instance (status awaiting: confirm through the mailed link)")
    @action(detail=True, methods=["post"])
    def reinstall(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, ReinstallSerializer, operations.reinstall)

    @_schema(
        RenameSerializer, "Rename the stopped instance (status awaiting: confirm through the mailed link)"
    )
    @action(detail=True, methods=["post"])
    def rename(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, RenameSerializer, operations.rename)

    @_schema(DestroySerializer, "Destroy the instance (status awaiting: confirm through the mailed link)")
    @action(detail=True, methods=["post"], url_path="destroy", url_name="destroy")
    def destroy_instance(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, DestroySerializer, operations.destroy)


class JobActions:
    """The POST action of the job viewset: cancel a job that has not ended."""

    kwargs: dict[str, Any]
    records_refusals = True

    @_schema(ReasonSerializer, "Cancel the job (queued or waiting; the cancel permission: any)")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        # Found whoever may see it, as for instances: the attempt on a job one may not see is recorded.
        job = Job.objects.select_related("cluster", "instance").filter(pk=int(self.kwargs["pk"])).first()
        if job is None:
            raise Http404(NOT_FOUND_JOB)
        return _answer(request, ReasonSerializer, functools.partial(operations.cancel_job, job))
