"""Wall time of ``make test`` (the whole pytest run) and its split: unit, integration, features.

    .venv/bin/python benchmarks/suite.py                  # the whole suite, as make test runs it
    .venv/bin/python benchmarks/suite.py --only unit      # one part (unit | integration | features)
    .venv/bin/python benchmarks/suite.py --junit FILE     # figures of a run already made

It runs pytest the way ``make test`` does (the same configuration from
``pyproject.toml``, the same markers), with a JUnit XML report in a temporary
directory, and prints the wall time, each part's share (the sum of its tests'
setup + call + teardown), what is left over (collection, session start-up,
the leak check at the end) and the slowest modules and tests. Target (issue 16):
under 15 minutes on 2 cores, which the cluster tests alone exceed today; the
figures say where the time goes, so cuts are measured rather than guessed.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PARTS = {"unit": "tests/unit", "integration": "tests/integration", "features": "features"}


def module_of(classname: str) -> str:
    """The test file behind a JUnit classname (``tests.unit.x.test_y`` or ``….test_y.TestZ``)."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end]) + ".py"
        if (REPO / candidate).is_file():
            return candidate
    return "/".join(parts) + ".py"


def part_of(module: str) -> str:
    for name, prefix in PARTS.items():
        if module.startswith(prefix + "/"):
            return name
    return "other"


def read_junit(path: Path) -> list[tuple[str, str, float, str]]:
    """(part, module, seconds, test id) per test case; outcome in the id's suffix when not passed."""
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        module = case.get("file") or module_of(case.get("classname", ""))
        seconds = float(case.get("time") or 0.0)
        status = next((tag for tag in ("failure", "error", "skipped") if case.find(tag) is not None),
                      "")
        test = f"{module}::{case.get('name', '')}" + (f" [{status}]" if status else "")
        cases.append((part_of(module), module, seconds, test))
    return cases


def report(cases: list[tuple[str, str, float, str]], wall: float | None, code: int | None) -> str:
    by_part: dict[str, float] = collections.defaultdict(float)
    count: dict[str, int] = collections.defaultdict(int)
    by_module: dict[str, float] = collections.defaultdict(float)
    for part, module, seconds, _ in cases:
        by_part[part] += seconds
        count[part] += 1
        by_module[module] += seconds
    total = sum(by_part.values())
    lines = []
    if wall is not None:
        lines.append(f"wall time        {wall:8.1f} s  ({wall / 60:.1f} min)"
                     + (f", pytest exit {code}" if code is not None else ""))
    for part in (*PARTS, "other"):
        if count[part]:
            lines.append(f"  {part:<14} {by_part[part]:8.1f} s  {count[part]:5d} tests")
    if wall is not None:
        lines.append(f"  {'not in a test':<14} {max(0.0, wall - total):8.1f} s  "
                     "(collection, start-up, session end)")
    lines.append("slowest modules:")
    for module, seconds in sorted(by_module.items(), key=lambda kv: -kv[1])[:15]:
        lines.append(f"  {seconds:8.1f} s  {module}")
    lines.append("slowest tests:")
    for _, _, seconds, test in sorted(cases, key=lambda c: -c[2])[:15]:
        lines.append(f"  {seconds:8.1f} s  {test}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=sorted(PARTS), help="Time one part only.")
    ap.add_argument("--junit", type=Path, help="Report on this JUnit XML instead of running.")
    args = ap.parse_args(argv)
    if args.junit is not None:
        if not args.junit.is_file():
            print(f"benchmarks/suite.py: {args.junit}: no such file", file=sys.stderr)
            return 2
        print(report(read_junit(args.junit), None, None))
        return 0
    with tempfile.TemporaryDirectory(prefix="pfdrill-suite-") as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [str(Path(sys.executable).parent / "pytest"), f"--junitxml={junit}", "-q",
               "-o", "junit_duration_report=total"]
        if args.only:
            cmd.append(PARTS[args.only])
        start = time.monotonic()
        code = subprocess.run(cmd, cwd=REPO, check=False).returncode
        wall = time.monotonic() - start
        if not junit.is_file():
            print(f"benchmarks/suite.py: pytest exited {code} without a report", file=sys.stderr)
            return 2
        print(report(read_junit(junit), wall, code))
    return 0


if __name__ == "__main__":
    sys.exit(main())
