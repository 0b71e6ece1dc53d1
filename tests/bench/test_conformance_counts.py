"""The conformance counts (python -m bench.conformance --from REPORT): per area and target, from a junit
report such as pytest writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.conformance.test_node_roles" name="test_drain[simulator]"/>
<testcase classname="tests.conformance.test_node_roles" name="test_drain[real]"/>
<testcase classname="tests.conformance.test_node_roles" name="test_demote[simulator]">
  <failure message="x"/></testcase>
<testcase classname="tests.conformance.test_node_roles" name="test_demote[real]"/>
<testcase classname="tests.conformance.test_query_language" name="test_parse[simulator-qfilter0-x]"/>
<testcase classname="tests.conformance.test_query_language" name="test_parse[real-qfilter0-x]"/>
<testcase classname="tests.conformance.test_query_language" name="test_parse[simulator-qfilter1-y]"/>
<testcase classname="tests.conformance.test_query_language" name="test_parse[real-qfilter1-y]">
  <skipped/></testcase>
<testcase classname="tests.conformance.test_htools" name="test_on_many_nodes"/>
<testcase classname="tests.sync.test_loop" name="test_pass[simulator]"/>
</testsuite></testsuites>
"""


def counts(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    report = tmp_path / "run.xml"
    report.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "bench.conformance", "--from", str(report)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_counts_per_area_and_target(tmp_path: Path) -> None:
    done = counts(tmp_path, REPORT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].split() == ["node", "roles", "2/2", "1/2", "1"]
    assert lines[2].split() == ["query", "language", "1/1", "2/2"]  # a skipped test is not counted as run
    assert lines[3].split() == ["total", "3/3", "3/4", "1"]
    assert lines[4] == "the simulator reproduces 2 of the 3 behaviours the real cluster passes (66.7 %)"
    assert lines[5] == "areas that differ: node roles: test_demote"


def test_a_missing_report_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.conformance", "--from", str(tmp_path / "none.xml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "no such report" in done.stderr
