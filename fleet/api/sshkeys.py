"""``/api/ssh-keys/``: the caller's own SSH keys (list, show, add, delete). Nobody sees another's keys."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.status import HTTP_201_CREATED

from fleet.api.serializers.sshkeys import SshKeyCreateSerializer, SshKeySerializer
from fleet.requests.filtersets import SshKeyFilterSet
from fleet.requests.keyring import add_key
from fleet.requests.models import SshKey


class SshKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Your SSH keys, given to the VMs you apply for; a key is refused if it does not parse, is DSA, is RSA
    under 2048 bits, or is one you already have (400 naming ``public_key``)."""

    serializer_class = SshKeySerializer
    filterset_class = SshKeyFilterSet
    lookup_value_regex = "[0-9]{1,18}"

    queryset = SshKey.objects.none()  # the schema's model; each request gets the caller's own below

    def get_queryset(self) -> QuerySet[SshKey]:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return SshKey.objects.filter(user=self.request.user).order_by("created_at", "pk")

    @extend_schema(
        request=SshKeyCreateSerializer,
        responses={201: SshKeySerializer, 400: OpenApiResponse(description="A field at fault, with why.")},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = SshKeyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            key = add_key(request.user, body.validated_data["public_key"], body.validated_data["name"])
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(SshKeySerializer(key).data, status=HTTP_201_CREATED)
