"""The PostgreSQL backend checks a reused connection only after it sat idle, and then replaces a dead one."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connections

from fleet.conf.postgresql.base import IDLE_BEFORE_CHECK

connection = connections["default"]

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the backend of PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _request_boundary() -> None:
    """What Django does with the connection between two requests."""
    connection.close_if_unusable_or_obsolete()


def _pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each health check the connection runs, and its outcome."""
    seen: list[bool] = []
    is_usable = type(connection).is_usable

    def counted(self: object) -> bool:
        seen.append(is_usable(self))
        return seen[-1]

    monkeypatch.setattr(type(connection), "is_usable", counted)
    monkeypatch.setattr(connection, "health_check_enabled", True)
    return seen


def test_a_connection_used_moments_ago_is_not_checked(checks: list[bool]) -> None:
    pid = _pid()
    for _ in range(3):
        _request_boundary()
        assert _pid() == pid
    assert checks == []


def test_an_idle_connection_is_checked_and_a_dead_one_replaced(checks: list[bool]) -> None:
    pid = _pid()
    connection.used_at -= IDLE_BEFORE_CHECK + 1  # as if the last query were that long ago
    settings = connection.get_connection_params()
    with psycopg.connect(**settings, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    _request_boundary()
    assert _pid() != pid  # no error: the check found the connection dead and a new one was made
    assert checks == [False]
