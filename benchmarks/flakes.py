"""False failures on a healthy fabric: every scenario N times, the weekly suite M times.

    .venv/bin/python benchmarks/flakes.py [--runs N] [--suite-runs M] [--name CLUSTER]
                                          [--only SCENARIO ...] [--out DIR] [--keep]

On the reference fabric with nothing broken (the embedded kwok stack, brought
up like ``make drill`` does), each chaostoolkit scenario under ``scenarios/``
runs with the real ``chaos run`` (as ``tests/integration/test_chaos_scenarios.py``
runs it), and then the weekly suite runs back to back through the same code as
``pfdrill drill run``. A scenario run is a false failure when ``chaos run``
does not exit 0 or its journal is deviated; a drill run when its verdict is not
"passed". Every false failure is printed with its phase (the scenario activity
or drill phase that failed) and reason, and every run is appended to
``<out>/runs.jsonl`` as it finishes (so an interrupted benchmark still leaves
its figures; ``--report`` prints the table of an earlier run).

Defaults (3 runs of each of the 11 scenarios, 1 weekly suite) fit within an hour
on 2 cores; the acceptance figure is ``--runs 10 --suite-runs 5``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
BASELINE_RATE = 20.0


@dataclasses.dataclass(frozen=True)
class Run:
    kind: str  # scenario | drill
    name: str
    ok: bool
    seconds: float
    phase: str = ""
    reason: str = ""
    mttd: float | None = None
    mttr: float | None = None


def _failed_activity(journal: dict[str, Any]) -> tuple[str, str]:
    """Where a chaostoolkit run went wrong: the first failed probe or action, with why."""
    for key in ("before", "after"):
        state = (journal.get("steady_states") or {}).get(key) or {}
        for probe in state.get("probes") or []:
            if probe.get("tolerance_met") is False or probe.get("status") == "failed":
                name = probe.get("activity", {}).get("name", "?")
                return (f"steady state {key}",
                        f"{name}: output {probe.get('output')!r} {probe.get('exception') or ''}")
    for run in journal.get("run") or []:
        if run.get("status") != "succeeded":
            exc = "".join(run.get("exception") or [])[-300:].strip()
            return f"method: {run.get('activity', {}).get('name', '?')}", exc
    return journal.get("status", "?"), "; ".join(
        r.get("activity", {}).get("name", "") for r in journal.get("rollbacks") or []
        if r.get("status") != "succeeded")


def run_scenario(path: Path, env: dict[str, str], out: Path) -> Run:
    journal_path = out / "journals" / f"{path.stem}-{time.time_ns()}.json"
    journal_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    done = subprocess.run([str(VENV_BIN / "chaos"), "--log-file",
                           str(journal_path.with_suffix(".log")), "run", "--journal-path",
                           str(journal_path), str(path)], env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    seconds = time.monotonic() - started
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Run("scenario", path.stem, False, seconds, "chaos run",
                   f"exit {done.returncode}, no journal: {done.stdout[-300:]}")
    ok = done.returncode == 0 and journal.get("status") == "completed" and not journal.get(
        "deviated")
    phase, reason = ("", "") if ok else _failed_activity(journal)
    return Run("scenario", path.stem, ok, seconds, phase, reason)


def run_suite(name: str, out: Path) -> list[Run]:
    from pfdrill.drill import suite, wiring

    factory = wiring.StackEnvironmentFactory.from_options(name=name)
    outcome = suite.run_file(REPO / "drills" / "weekly.yaml", factory, reports=out / "reports",
                             history=out / "history.sqlite")
    runs = []
    for r in outcome.result.results:
        m = r.measures
        runs.append(Run("drill", r.name, r.verdict.ok, r.duration_s,
                        r.failing_phase.value if r.failing_phase else "", r.reason,
                        m.mttd, m.mttr))
    return runs


def _spread(values: Sequence[float | None]) -> str:
    nums = sorted(v for v in values if v is not None)
    if not nums:
        return "—"
    return f"{nums[0]:.1f} / {statistics.median(nums):.1f} / {nums[-1]:.1f} s"


def table(runs: Sequence[Run]) -> str:
    by: dict[tuple[str, str], list[Run]] = {}
    for r in runs:
        by.setdefault((r.kind, r.name), []).append(r)
    lines = ["| | runs | passed | false failures | time (min/median/max) | MTTD | MTTR |",
             "|---|---|---|---|---|---|---|"]
    for (kind, name), rs in sorted(by.items()):
        bad = [r for r in rs if not r.ok]
        lines.append(f"| {kind} {name} | {len(rs)} | {len(rs) - len(bad)} | {len(bad)} | "
                     f"{_spread([r.seconds for r in rs])} | "
                     f"{_spread([r.mttd for r in rs]) if kind == 'drill' else ''} | "
                     f"{_spread([r.mttr for r in rs]) if kind == 'drill' else ''} |")
    failures = [r for r in runs if not r.ok]
    lines.append("")
    lines.append(f"total: {len(runs)} runs, {len(failures)} false failure(s)")
    for r in failures:
        lines.append(f"  FALSE FAILURE {r.kind} {r.name} in {r.phase}: {r.reason[:400]}")
    return "\n".join(lines)


def _record(out: Path, run: Run) -> None:
    with (out / "runs.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(dataclasses.asdict(run)) + "\n")
    mark = "ok  " if run.ok else "FAIL"
    print(f"{mark} {run.kind} {run.name} {run.seconds:.0f} s"
          + (f" — {run.phase}: {run.reason[:200]}" if not run.ok else ""), flush=True)


def _load(out: Path) -> list[Run]:
    path = out / "runs.jsonl"
    if not path.is_file():
        return []
    return [Run(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs of each scenario (default 3)")
    ap.add_argument("--suite-runs", type=int, default=1, help="weekly suites (default 1)")
    ap.add_argument("--name", default="pfdrill-flakes", help="kwok cluster name")
    ap.add_argument("--only", action="append", default=[], help="scenario stem (repeatable)")
    ap.add_argument("--out", type=Path, default=Path("flakes-out"), help="results directory")
    ap.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    ap.add_argument("--report", action="store_true", help="print the table of --out and stop")
    args = ap.parse_args(argv)
    out: Path = args.out.resolve()
    if args.report:
        print(table(_load(out)))
        return 0
    out.mkdir(parents=True, exist_ok=True)

    from pfdrill.chaos import target
    from pfdrill.fabric.authority import Authority
    from pfdrill.load import plan, runner
    from pfdrill.settings.paths import Paths
    from pfdrill.stack.lifecycle import Stack

    stack = Stack(name=args.name)
    paths = Paths.from_env()
    runs: list[Run] = []
    try:
        info = stack.up_all("drill", progress=lambda m: print(m, flush=True))
        scenarios = sorted((REPO / "scenarios").glob("*.json"))
        if args.only:
            scenarios = [p for p in scenarios if p.stem in args.only]
        if scenarios and args.runs:
            address = info.service_address(info.namespace, "sidecar-watcher")
            assert address, "no sidecar-watcher Service proxy: is the runtime up?"
            env = {**os.environ, "PFDRILL_KUBECONFIG": info.kubeconfig,
                   "PFDRILL_CONTEXT": info.context, "PFDRILL_STATE_DIR": str(paths.state),
                   "PFDRILL_RUNTIME_DIR": info.runtime_dir,
                   "PFDRILL_WATCHER_URL": f"http://{address}", "PFDRILL_HOLD_S": "2",
                   "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
            load = runner.start(plan.LoadPlan.baseline(f"http://{address}", rate=BASELINE_RATE),
                                Authority.for_context(info.context, paths),
                                run_dir=out / "baseline-load")
            try:
                load.wait_for_stats(timeout_s=60)
                time.sleep(5)  # some history for the first rate windows
                for _ in range(args.runs):
                    for path in scenarios:
                        run = run_scenario(path, env, out)
                        runs.append(run)
                        _record(out, run)
            finally:
                load.stop()
                load.cleanup()
                target.forget()
        for _ in range(args.suite_runs):
            for run in run_suite(args.name, out):
                runs.append(run)
                _record(out, run)
    finally:
        if not args.keep:
            stack.down(progress=lambda m: print(m, flush=True))
        print(table(runs), flush=True)
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
