"""Wall time of ``pfdrill gate`` for a one-section runbook change, and where it goes.

    .venv/bin/python benchmarks/gate.py [--section performance|prevention|mitigation]
                                        [--name CLUSTER] [--runs cold,cached]

A throw-away git repository holds the project's runbook, drills and features;
the change edits one command of one section. The gate runs on a warm machine
(toolchain cached) with the cluster down, twice: first with an empty base
cache, then with the base results cached (the cluster brought down again in
between). Each run prints its wall time split into set-up (cluster,
observability, fabric), base check, head check and drills, and the commands
of the head check that took longest, grouped by program. Targets (issue 12):
under 6 minutes warm, under 4 with the base cached. The machine's load average
is printed too: on a shared machine it scales every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from pfdrill.drill import wiring
from pfdrill.gate import gatekeeper, plan
from pfdrill.stack.lifecycle import Stack

PROJECT = Path(__file__).resolve().parents[1]
RB = "runbooks/policy-enforcement-incident-response.md"
# One command edited in one section, harmlessly, and the drills that section selects.
EDITS = {
    "performance": ("--timeout=120s\n```\n\n### 3. Security Recovery",
                    "--timeout=180s\n```\n\n### 3. Security Recovery"),  # high-reject-rate
    "prevention": ("--prediction-window 10m", "--prediction-window 15m"),  # no drill
    "mitigation": ("--replicas=0\n", "--replicas=0 --timeout=30s\n"),  # every drill
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=bench@invalid",
                    "-c", "user.name=bench", *args], check=True, capture_output=True)


def make_repo(where: Path, section: str) -> Path:
    repo = where / "repo"
    repo.mkdir(parents=True)
    for rel in ("runbooks", "features"):
        shutil.copytree(PROJECT / rel, repo / rel)
    (repo / "drills").mkdir()
    shutil.copy2(PROJECT / "drills" / "weekly.yaml", repo / "drills" / "weekly.yaml")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "change")
    old, new = EDITS[section]
    path = repo / RB
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    _git(repo, "commit", "-q", "-am", f"edit {section}")
    return repo


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def slowest(report_dir: Path) -> list[str]:
    """The head check's time by program (first word of each command), most first."""
    by: dict[str, list[float]] = defaultdict(list)
    for f in sorted((report_dir / "runbook").glob("*-head-*.json")):
        for r in json.loads(f.read_text())["results"]:
            first = r["command"]["text"].split()[0] if r["command"]["text"].split() else "?"
            by[first.lstrip("./(")].append(r["duration_s"])
    rows = sorted(by.items(), key=lambda kv: -sum(kv[1]))[:6]
    return [f"    {name:<10} {len(d):3d} commands {sum(d):7.1f} s (mean {sum(d) / len(d):.2f} s)"
            for name, d in rows]


def run_once(label: str, repo: Path, factory: wiring.StackEnvironmentFactory,
             cache_dir: Path, reports: Path) -> float:
    stack: Stack = factory.stack()
    stack.down()  # "cluster down": every run brings its environment up itself
    print(f"[{label}] load average {load()}", flush=True)
    keeper = gatekeeper.Gatekeeper(plan.Request(repo=repo), factory, reports=reports,
                                   cache_dir=cache_dir, progress=lambda m: print(m, flush=True))
    start = time.monotonic()
    outcome = keeper.run()
    wall = time.monotonic() - start
    r, t = outcome.result, outcome.result.timing
    print(f"[{label}] gate {'passed' if r.passed else 'FAILED'} in {wall:.1f} s: set-up "
          f"{t.setup_s:.1f} s, base check {t.base_check_s:.1f} s, head check "
          f"{t.head_check_s:.1f} s, drills {t.drills_s:.1f} s (+ base drills "
          f"{t.base_drills_s:.1f} s), rest {wall - t.setup_s - t.base_check_s - t.head_check_s - t.drills_s - t.base_drills_s:.1f} s")
    print(f"[{label}] {len(r.selected)} drill(s) selected: "
          f"{', '.join(s.drill for s in r.selected) or 'none'}; load average {load()}")
    print(f"[{label}] head check by program:")
    print("\n".join(slowest(outcome.report_dir)))
    return wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--section", choices=sorted(EDITS), default="performance")
    ap.add_argument("--name", default=os.environ.get("PFDRILL_TEST_CLUSTER", "pfdrill"),
                    help="cluster name (default $PFDRILL_TEST_CLUSTER or pfdrill)")
    ap.add_argument("--runs", default="cold,cached", help="cold, cached or both")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="pfdrill-bench-gate-"))
    repo = make_repo(work, args.section)
    factory = wiring.StackEnvironmentFactory(name=args.name, progress=lambda m: print(m))
    cache_dir, reports = work / "cache", work / "reports"
    targets = {"cold": 360.0, "cached": 240.0}
    walls: dict[str, float] = {}
    try:
        for label in args.runs.split(","):
            if label == "cold":
                shutil.rmtree(cache_dir, ignore_errors=True)
            walls[label] = run_once(label, repo, factory, cache_dir, reports)
    finally:
        factory.stack().down()
    for label, wall in walls.items():
        ok = "met" if wall < targets[label] else "MISSED"
        print(f"target {label}: {wall:.0f} s < {targets[label]:.0f} s: {ok}")
    print(f"reports: {reports}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
