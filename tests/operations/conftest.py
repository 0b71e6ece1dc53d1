"""Fixtures for the operation tests: accounts, and the worker fixtures of tests/sync."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from tests.sync.conftest import running_worker  # noqa: F401  (a fixture, used by name)


@pytest.fixture
def make_user() -> Callable[..., User]:
    def make(name: str, **fields: object) -> User:
        return User.objects.create_user(name, f"{name}@example.org", "secret-password-1", **fields)

    return make
