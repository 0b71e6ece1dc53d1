"""The migration from Django REST framework's tokens: each old key keeps working, now hashed, read and write,
expiring after the configured maximum; the table that held the keys in clear is gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from fleet.tokens.models import ApiToken

BEFORE = [("tokens", "0001_initial")]
AFTER = [("tokens", "0002_carry_over_drf_tokens")]
OLD_KEY = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def executor(transactional_db: None) -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    yield executor
    executor = MigrationExecutor(connection)  # the suite goes on with the latest schema
    executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate(executor: MigrationExecutor, target: list[tuple[str, str]]) -> None:
    executor.loader.build_graph()
    executor.migrate(target)


def _old_table(user: User, created: datetime) -> None:
    """The table rest_framework.authtoken made, with one user's key in it."""
    with connection.cursor() as cursor:
        cursor.execute(
            'CREATE TABLE authtoken_token ("key" varchar(40) NOT NULL PRIMARY KEY, '
            "created timestamp with time zone NOT NULL, "
            "user_id integer NOT NULL UNIQUE REFERENCES auth_user (id))"
        )
        cursor.execute(
            'INSERT INTO authtoken_token ("key", created, user_id) VALUES (%s, %s, %s)',
            [OLD_KEY, connection.ops.adapt_datetimefield_value(created), user.pk],
        )
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)",
            ["authtoken", "0001_initial", connection.ops.adapt_datetimefield_value(created)],
        )


def test_old_keys_keep_working_hashed_and_the_clear_ones_are_gone(executor: MigrationExecutor) -> None:
    _migrate(executor, BEFORE)
    alice = User.objects.create_user("alice")
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    _old_table(alice, created)

    _migrate(executor, AFTER)
    token = ApiToken.objects.get()
    assert (token.user, token.scope, token.name) == (alice, "write", "carried over")
    assert token.created_at == created
    assert token.token_id == OLD_KEY[:12] and OLD_KEY[12:] not in token.secret_digest  # the secret: hashed
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    answer = Client(HTTP_AUTHORIZATION=f"Token {OLD_KEY}").get("/api/clusters/")
    assert answer.status_code == 200
    assert "authtoken_token" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = %s", ["authtoken"])
        assert cursor.fetchone() == (0,)


def test_a_new_installation_has_nothing_to_carry(executor: MigrationExecutor) -> None:
    _migrate(executor, BEFORE)
    _migrate(executor, AFTER)
    assert not ApiToken.objects.exists()
