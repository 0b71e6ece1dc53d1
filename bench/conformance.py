"""The share of a real Ganeti cluster's behaviour the simulator reproduces: the conformance suite's counts on
both targets, area by area (an area is one module of tests/conformance).

    python -m bench.conformance                 run tests/conformance and count (the real cluster takes
                                                root and FLEET_REAL_GANETI=1; else only the simulator runs)
    python -m bench.conformance --from RUN.xml  count a run already made with pytest --junitxml

Every conformance test asserts the same outcome on both targets, so a test that passes on the real cluster and
fails on the simulator is a behaviour the simulator does not reproduce.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

TARGETS = ("real", "simulator")
SUITE = "tests/conformance"


@dataclass
class Area:
    """One module's tests: per target, the outcome of each test (keyed by its id without the target)."""

    outcomes: dict[str, dict[str, str]] = field(default_factory=lambda: {t: {} for t in TARGETS})

    def passed(self, target: str) -> int:
        return sum(1 for o in self.outcomes[target].values() if o == "passed")

    def ran(self, target: str) -> int:
        return sum(1 for o in self.outcomes[target].values() if o != "skipped")

    def differing(self) -> list[str]:
        """Tests that pass on the real cluster and not on the simulator, or the other way round."""
        real, sim = self.outcomes["real"], self.outcomes["simulator"]
        return sorted(
            t for t in real.keys() & sim.keys() if "skipped" not in (real[t], sim[t]) and real[t] != sim[t]
        )

    def reproduced(self) -> tuple[int, int]:
        """(passing on both, passing on the real cluster)."""
        real, sim = self.outcomes["real"], self.outcomes["simulator"]
        on_real = [t for t, o in real.items() if o == "passed"]
        return sum(1 for t in on_real if sim.get(t) == "passed"), len(on_real)


def _outcome(case: ET.Element) -> str:
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    if case.find("skipped") is not None:
        return "skipped"
    return "passed"


def _split(name: str) -> tuple[str, str | None]:
    """A test id and the target in its parameters: test_x[simulator-a] -> (test_x[a], simulator)."""
    match = re.fullmatch(r"([^\[]+)\[(.*)\]", name)
    if not match:
        return name, None
    parts = match.group(2).split("-")
    target = next((p for p in parts if p in TARGETS), None)
    rest = [p for p in parts if p != target]
    return (f"{match.group(1)}[{'-'.join(rest)}]" if rest else match.group(1)), target


def read_report(*paths: Path) -> dict[str, Area]:
    """The conformance tests of junit reports (one run may write several), by area."""
    areas: dict[str, Area] = defaultdict(Area)
    cases = (case for path in paths for case in ET.parse(path).getroot().iter("testcase"))
    for case in cases:
        module = case.get("classname", "")
        if ".conformance." not in f".{module}.":
            continue
        test, target = _split(case.get("name", ""))
        if target is None:  # a check of the simulated fleet alone (htools on many nodes)
            continue
        area = module.rsplit(".", 1)[-1].removeprefix("test_").replace("_", " ")
        areas[area].outcomes[target][test] = _outcome(case)
    return dict(sorted(areas.items()))


def report(areas: dict[str, Area]) -> str:
    """The counts as a table: tests passed of those run, on each target; the areas that differ."""
    width = max([len(a) for a in areas] + [len("total")])
    lines = [f"{'area':<{width}}  {'real Ganeti':>12}  {'simulator':>12}  differ"]
    totals = {t: [0, 0] for t in TARGETS}
    both = on_real = 0
    differ: list[str] = []
    for name, area in areas.items():
        cells = []
        for target in TARGETS:
            passed, ran = area.passed(target), area.ran(target)
            totals[target][0] += passed
            totals[target][1] += ran
            cells.append(f"{passed}/{ran}" if ran else "not run")
        reproduced, real_passed = area.reproduced()
        both, on_real = both + reproduced, on_real + real_passed
        differing = area.differing()
        differ += [f"{name}: {t}" for t in differing]
        lines.append(f"{name:<{width}}  {cells[0]:>12}  {cells[1]:>12}  {len(differing) or ''}")
    cells = [f"{p}/{r}" if r else "not run" for p, r in (totals[t] for t in TARGETS)]
    lines.append(f"{'total':<{width}}  {cells[0]:>12}  {cells[1]:>12}  {len(differ) or ''}")
    if on_real:
        lines.append(
            f"the simulator reproduces {both} of the {on_real} behaviours the real cluster passes"
            f" ({100 * both / on_real:.1f} %)"
        )
    else:
        lines.append("the real cluster was not run (root and FLEET_REAL_GANETI=1)")
    lines.append("areas that differ: " + ("; ".join(differ) if differ else "none"))
    return "\n".join(lines)


def run_suite(xml_path: Path) -> int:
    """Run the conformance suite once, both targets, into a junit report; its exit status."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        SUITE,
        f"--junitxml={xml_path}",
    ]
    return subprocess.run(command, check=False, env=os.environ.copy()).returncode


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.conformance", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--from", dest="sources", type=Path, nargs="+", help="the junit reports of a run already made"
    )
    args = parser.parse_args(argv)
    if args.sources:
        missing = [str(source) for source in args.sources if not source.is_file()]
        if missing:
            parser.error(f"no such report: {', '.join(missing)}")
        print(report(read_report(*args.sources)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        xml_path = Path(tmp) / "conformance.xml"
        run_suite(xml_path)
        if not xml_path.is_file():
            sys.exit("pytest wrote no report")
        print(report(read_report(xml_path)))


if __name__ == "__main__":
    main()
