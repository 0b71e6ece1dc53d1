"""The shared scenario and its logged-in clients (tests/inventory/scenario_fixtures.py)."""

from tests.inventory.scenario_fixtures import login, scenario

__all__ = ["login", "scenario"]
