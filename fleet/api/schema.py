"""The OpenAPI schema says what the API really answers: every error each endpoint gives, with its body, and
every list parameter's real domain (the rules of ``fleet.inventory.filtersets`` and ``paging``).

- :class:`FleetSchema` (DRF's ``DEFAULT_SCHEMA_CLASS``) adds to every operation the errors it can give:
  401 without valid credentials, 400 naming the fields for a list's parameters or a write's body, 404 for an
  id that matches nothing the caller may see or a page past the end, 403 for a write the token or the policy
  refuses. Each body is ``{"detail": "..."}``, or for a 400 ``{"<parameter>": ["..."]}``.
- :class:`FleetFilters` describes Fleet's filters as they validate: text and names bounded and free of NUL,
  names repeatable, figures whole numbers from 0 to 2^53, yes-or-no as booleans, sort keys comma-separated
  (a pattern, since an empty value is the list's own order but an empty key is an error).
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_parameter_type
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from fleet.inventory import filtersets


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")


FIELD_ERRORS = {
    "type": "object",
    "description": "Each parameter or field at fault, and what is wrong (a list's items by index); or, for "
    "a body that is not JSON, what is wrong with it as `detail`.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}, {"type": "string"}]
    },
}

NO_NUL = r"^[^\u0000]*$"


class FleetSchema(AutoSchema):
    """drf-spectacular's schema, with the errors every endpoint gives (see the module docstring)."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies: dict[str, Any] = super()._get_response_bodies(direction)
        for code, response in self._errors().items():
            given = bodies.get(code)
            if given is None:
                bodies[code] = self._get_response_for_code(response, code, direction=direction)
            elif "content" not in given:  # a description only: give it the body
                found = self._get_response_for_code(response, code, direction=direction)
                bodies[code] = {**found, "description": given.get("description") or found["description"]}
        return bodies

    def _errors(self) -> dict[str, OpenApiResponse]:
        writes = self.method not in ("GET", "HEAD", "OPTIONS")
        detail = "{id}" in self.path
        errors = {"401": OpenApiResponse(ErrorSerializer, description="No valid credentials.")}
        if writes or not detail:
            errors["400"] = OpenApiResponse(FIELD_ERRORS, description="A parameter or a field is wrong.")
        if writes:
            errors["403"] = OpenApiResponse(
                ErrorSerializer, description="Refused: a read-only token, or the policy."
            )
        if detail:
            errors["404"] = OpenApiResponse(ErrorSerializer, description="No such object, or not yours.")
        elif not writes:
            errors["404"] = OpenApiResponse(ErrorSerializer, description="A page past the last one.")
            errors["414"] = OpenApiResponse(
                description="A query string too long for the web server (gunicorn's and nginx's limit)."
            )
        return errors


_WHOLE = {"type": "integer", "minimum": 0, "maximum": filtersets.MAX_FIGURE}
_TEXT = {"type": "string", "maxLength": filtersets.SEARCH_MAX_LENGTH, "pattern": NO_NUL}
_NAMES = {
    "type": "array",
    "items": {"type": "string", "maxLength": filtersets.NAME_MAX_LENGTH, "pattern": NO_NUL},
    "maxItems": filtersets.MAX_NAMES,
}


class FleetFilters(DjangoFilterExtension):
    """Fleet's filter classes, each described by the rule its form field applies."""

    priority = 1

    def resolve_filter_field(
        self, auto_schema: Any, model: Any, filterset_class: Any, field_name: str, filter_field: Any
    ) -> list[dict[str, Any]]:
        schema: dict[str, Any] | None = None
        if isinstance(filter_field, filtersets.TextFilter):
            schema = _TEXT
        elif isinstance(filter_field, filtersets.NamesFilter):
            schema = _NAMES
        elif isinstance(filter_field, filtersets.FigureFilter):
            schema = _WHOLE
        elif isinstance(filter_field, filtersets.TruthFilter):
            schema = {"type": "boolean"}
        elif isinstance(filter_field, filtersets.SortFilter):
            # Keys separated by commas, none empty; or nothing at all, for the list's own order.
            key = "|".join(re.escape(key) for key, _ in filter_field.extra["choices"])
            schema = {"type": "string", "pattern": f"^(({key})(,({key}))*)?$"}
        if schema is None:
            found: list[dict[str, Any]] = super().resolve_filter_field(
                auto_schema, model, filterset_class, field_name, filter_field
            )
            return found
        return [
            build_parameter_type(
                name=field_name,
                location=OpenApiParameter.QUERY,
                description=str(filter_field.label or ""),
                schema=dict(schema),
            )
        ]
