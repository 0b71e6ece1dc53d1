"""How the API knows who calls and what the call may do: Fleet's API tokens, and their scope.

``TokenAuthentication`` reads ``Authorization: Token <key>`` (as the docs have always said) or
``Authorization: Bearer <key>``; a key that is unknown, revoked or expired is a 401 that says which.
``TokenScope``, a default permission class, lets every valid token read and only write-scoped tokens use
the other methods; session-authenticated requests pass (DRF's session authentication enforces CSRF).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from fleet.tokens.models import ApiToken
from fleet.tokens.verify import TokenRefused, verify

KEYWORDS = ("Token", "Bearer")


class TokenAuthentication(authentication.BaseAuthentication):
    """Authenticate by API token; ``request.auth`` is then the ApiToken row, scope and all."""

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in {k.lower() for k in KEYWORDS}:
            return None  # another scheme, or none: let the next class try
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: give one key after the keyword, as in 'Token <key>'."
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token: not a Fleet API key.") from None
        try:
            token = verify(key)
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return KEYWORDS[0]  # a 401 (not a 403) for a refused key, with WWW-Authenticate: Token


class TokenScope(permissions.BasePermission):
    """Safe methods for every caller the other permissions let in; the rest only for write-scoped tokens
    (and sessions). Any other kind of credential is refused writes: closed by default."""

    message = "This token may only read: writing needs a token with the 'read and write' scope."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS or request.auth is None:
            return True
        if getattr(view, "records_refusals", False) and getattr(view, "detail", False):
            return True  # an action on one object: fleet.operations refuses it, and records the attempt
        return isinstance(request.auth, ApiToken) and request.auth.can_write


class TokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The token scheme in the OpenAPI schema (registered by being defined)."""

    target_class = "fleet.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API token from the web UI's API tokens page, as `Authorization: Bearer <key>` or "
                "`Authorization: Token <key>`. A read token may only use GET, HEAD and OPTIONS."
            ),
        }
