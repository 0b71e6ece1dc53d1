"""The fields the access policy lets the caller see, the same rule as the pages'."""

from __future__ import annotations

from typing import Any

from fleet.access import policy


class PolicyFieldsMixin:
    """Leaves out of a model serializer the fields ``policy.visible_fields`` hides from the caller.

    For the OpenAPI schema (no request, or drf-spectacular's stand-in view) every field stays: the schema
    describes what a caller may get, whoever asks for it.
    """

    context: dict[str, Any]

    def get_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = super().get_fields()  # type: ignore[misc]
        request = self.context.get("request")
        if request is None or getattr(self.context.get("view"), "swagger_fake_view", False):
            return fields
        visible = policy.visible_fields(request.user, self.Meta.model)  # type: ignore[attr-defined]
        if visible is None:
            return fields
        return {name: field for name, field in fields.items() if name in visible}
