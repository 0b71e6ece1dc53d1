"""The shipped alert rules and their unit tests, by promtool (Debian's prometheus package)."""

from __future__ import annotations

import subprocess

from tests.metrics.prometheus import REPOSITORY, RULES

RULE_TESTS = REPOSITORY / "deploy" / "prometheus" / "tests" / "fleet-alerts-test.yml"


def test_promtool_checks_the_rules() -> None:
    done = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 22 rules found" in done.stdout


def test_the_rules_unit_tests_pass() -> None:
    done = subprocess.run(["promtool", "test", "rules", str(RULE_TESTS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
