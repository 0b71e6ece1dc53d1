"""The shared scenario and its logged-in clients, for the tests that look at the pages and the API."""

from tests.inventory.scenario_fixtures import login, scenario

__all__ = ["login", "scenario"]
