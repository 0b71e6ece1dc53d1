"""The web UI's table: login sessions that name their account (``fleet.web.sessions``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession, BaseSessionManager
from django.db import models

if TYPE_CHECKING:
    from django.contrib.sessions.backends.db import SessionStore


class SessionManager(BaseSessionManager):  # type: ignore[type-arg]
    """Sessions are read with their account, in the same statement."""

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().select_related("user")


class Session(AbstractBaseSession):
    """Django's database session, plus the account it is logged in as (none before a login).

    Deleting an account deletes its sessions; a page reads a session and its account in one statement.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    objects = SessionManager()

    class Meta(AbstractBaseSession.Meta):
        db_table = "web_session"

    @classmethod
    def get_session_store_class(cls) -> type[SessionStore]:
        from fleet.web.sessions import SessionStore

        return SessionStore
