"""Fixtures of the page and API tests: the shared scenario, and clients logged in as each of its accounts."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.inventory.scenario import Scenario, build


@pytest.fixture
def scenario(db: None) -> Scenario:
    return build()


@pytest.fixture
def login(scenario: Scenario):
    def client_for(name: str) -> Client:
        client = Client()
        client.force_login(getattr(scenario, name))
        return client

    return client_for
