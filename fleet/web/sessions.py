"""Login sessions that read their account with themselves: one statement per page instead of two.

Django's database sessions cost every page two queries before the view runs: the session, then the user it
names. :class:`SessionStore` keeps the user's id in its row (``fleet.web.models.Session``) and reads the
user in the same statement; :class:`SessionUserBackend`, Django's ``ModelBackend`` otherwise, hands that
user to Django's authentication, which verifies it as always (the session's password hash, an active
account). Both stay server-side: a logout, a deactivated or deleted account count at the next request, on
every worker.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError

from fleet.web.models import Session

_read_with_session: ContextVar[Any] = ContextVar("fleet_session_user", default=None)
"""The user the current request's session was read with; reset as each request starts (``WebConfig``)."""


def forget_session_user(**kwargs: Any) -> None:
    """A new request has read no session yet (connected to ``request_started``)."""
    _read_with_session.set(None)


class SessionStore(db.SessionStore):
    """Django's database session store, on :class:`~fleet.web.models.Session`."""

    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def _get_session_from_db(self) -> Session | None:
        session = super()._get_session_from_db()
        _read_with_session.set(session.user if session is not None else None)
        return session

    def create_model_instance(self, data: dict[str, Any]) -> Session:
        session = super().create_model_instance(data)
        try:
            session.user_id = get_user_model()._meta.pk.to_python(data.get(SESSION_KEY))
        except ValidationError:
            session.user_id = None
        return session


class SessionUserBackend(ModelBackend):
    """``ModelBackend``, whose ``get_user`` takes the user read with the session when it is the one asked."""

    def get_user(self, user_id: Any) -> Any:
        user = _read_with_session.get()
        if user is not None and user.pk == user_id:
            return user if self.user_can_authenticate(user) else None
        return super().get_user(user_id)
