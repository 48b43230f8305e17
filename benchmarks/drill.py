"""Wall time of a drill suite, split into intrinsic waiting and pfdrill's own overhead.

    .venv/bin/python benchmarks/drill.py [drills/weekly.yaml] [--only NAME] [--fake]

Intrinsic waiting is time the drill spends on the system under test: waiting
for alerts to fire and be notified (the detector), the runbook's own commands,
and every sleep of the main thread (polling between looks while waiting for
classification, mitigation, steady state or a fault's proof; a fault's
measurement window; a Deployment polled until Ready) except those waiting for
pfdrill's own load generator. Everything else — API calls, preflight checks,
snapshots, restore, evidence collection, report writing, starting locust — is
pfdrill's overhead. Targets (issue 7): the weekly suite under
10 minutes in the ``drill`` profile, overhead under 10% of wall time.

``--fake`` runs against the simulated world instead of the drill cluster: its
clock is virtual, so the intrinsic figure is simulated time and the wall time
is pure pfdrill overhead (a regression check of the engine itself).
"""

from __future__ import annotations

# ruff: noqa: E402  (time.sleep is metered before pfdrill is imported)
import argparse
import dataclasses
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class Meter:
    """Accumulates real (or, for the fake, virtual) seconds spent waiting on the world.

    Only the outermost timed call counts (the detector's wait sleeps inside
    it), and only on the main thread (a fault's worker thread sleeping beside
    it is not extra wall time). Waiting is kept per category.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.by: dict[str, float] = {}
        self._depth = 0

    @property
    def waiting(self) -> float:
        return sum(self.by.values())

    def timed(self, fn: Callable[..., Any], category: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is not threading.main_thread() or self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            start = self.clock()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                self.by[category] = self.by.get(category, 0.0) + self.clock() - start
        return wrapper


# Every sleep of the main thread is waiting on the world (a fault measuring its baseline
# window, the engine waiting out a rate window, a Deployment polled until Ready) — except
# pfdrill.load's, which wait for our own load generator. time.sleep is replaced before
# pfdrill is imported, so that functions taking ``sleep=time.sleep`` as a default see it.
SLEEPS: Meter | None = None  # set in main() for a run against the real stack
_real_sleep = time.sleep


def _sleep(seconds: float) -> None:
    caller = sys._getframe(1).f_globals.get("__name__", "")
    if SLEEPS is None or caller.startswith("pfdrill.load"):
        _real_sleep(seconds)
    else:
        SLEEPS.timed(_real_sleep, "polling and measurement windows")(seconds)


time.sleep = _sleep

from pfdrill.drill import fake, suitefile, wiring
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.observer import BaseObserver
from pfdrill.drill.suite import SuiteRunner, new_run_id
from pfdrill.model.result import DrillResult
from pfdrill.model.sla import TimingProfile
from pfdrill.report.writer import ReportWriter


class _Proxy:
    def __init__(self, target: Any, meter: Meter, methods: Sequence[str], category: str) -> None:
        self._target = target
        for name in methods:
            setattr(self, name, meter.timed(getattr(target, name), category))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class Metered:
    """An environment factory whose environments report their waiting to a meter."""

    def __init__(self, inner: Any, meter_for: Callable[[DrillEnvironment], Meter]) -> None:
        self.inner = inner
        self.meter_for = meter_for
        self.meters: list[Meter] = []

    def build(self, profile: TimingProfile) -> DrillEnvironment:
        env: DrillEnvironment = self.inner.build(profile)
        meter = self.meter_for(env)
        self.meters.append(meter)
        return dataclasses.replace(
            env, clock=_Proxy(env.clock, meter, ["sleep"], "polling and measurement windows"),
            detector=_Proxy(env.detector, meter, ["wait_for_notification"],
                            "alerts firing and notified"),
            runbook=_Proxy(env.runbook, meter, ["run_section"], "runbook commands"))


class PerDrill(BaseObserver):
    def __init__(self, meters: list[Meter]) -> None:
        self.meters = meters
        self.rows: list[tuple[DrillResult, float, float]] = []
        self._start = (0.0, 0.0)

    def _waiting(self) -> float:
        return sum(m.waiting for m in {id(m): m for m in self.meters}.values())

    def started(self, header: Any, spec: Any, run_id: str) -> None:
        self._start = (time.monotonic(), self._waiting())

    def finished(self, result: DrillResult) -> None:
        wall = time.monotonic() - self._start[0]
        waiting = self._waiting() - self._start[1]
        self.rows.append((result, wall, waiting))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", nargs="?", default="drills/weekly.yaml")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--profile", default="drill", choices=("drill", "production"))
    ap.add_argument("--fake", action="store_true", help="simulated world, virtual clock")
    args = ap.parse_args(argv)

    profile = TimingProfile(args.profile)
    suite = suitefile.select(suitefile.load(args.suite, profile=profile), args.only)
    state = Path(tempfile.mkdtemp(prefix="pfdrill-bench-"))
    inner: Any
    if args.fake:
        world = fake.FakeWorld()
        inner = fake.FakeEnvironmentFactory(world, state)
        factory = Metered(inner, lambda env: Meter(world.clock.monotonic))
    else:
        inner = wiring.StackEnvironmentFactory.from_options()
        # One meter for the whole run; every sleep of the main thread is waiting too: a
        # fault measuring its baseline window, the engine waiting out a rate window,
        # a deployment polled until Ready — time spent on the world, not on pfdrill.
        global SLEEPS
        shared = SLEEPS = Meter(time.monotonic)
        factory = Metered(inner, lambda env: shared)
    run_id = new_run_id()
    per = PerDrill(factory.meters)
    writer = ReportWriter(state / "reports" / run_id)
    start = time.monotonic()
    result = SuiteRunner(suite, factory, run_id=run_id, observers=[per],
                         writers=[writer]).run()
    wall = time.monotonic() - start

    print(f"suite {suite.name} ({len(suite.drills)} drills, profile {profile.value}"
          f"{', fake world' if args.fake else ''}): {result.counts['passed']} passed")
    print(f"{'drill':<28} {'verdict':<8} {'wall s':>8} {'waiting s':>10} {'overhead s':>11} "
          f"{'MTTD':>6} {'MTTR':>6}")
    for r, w, waiting in per.rows:
        over = "-" if args.fake else f"{w - waiting:11.1f}"
        m = r.measures
        print(f"{r.name:<28} {r.verdict.value:<8} {w:8.2f} {waiting:10.1f} {over:>11} "
              f"{m.mttd or 0:6.1f} {m.mttr or 0:6.1f}")
    meters = list({id(m): m for m in factory.meters}.values())
    waiting = sum(m.waiting for m in meters)
    categories: dict[str, float] = {}
    for m in meters:
        for name, seconds in m.by.items():
            categories[name] = categories.get(name, 0.0) + seconds
    for name, seconds in sorted(categories.items(), key=lambda kv: -kv[1]):
        print(f"  waiting on {name:<34} {seconds:8.1f} s")
    if args.fake:
        print(f"wall {wall:.2f} s for {waiting:.0f} s of simulated drill time "
              f"(engine overhead {1000 * wall / max(1, len(per.rows)):.0f} ms per drill)")
    else:
        overhead = wall - waiting
        share = overhead / wall if wall else 0.0
        print(f"wall {wall:.1f} s = waiting {waiting:.1f} s + pfdrill overhead {overhead:.1f} s "
              f"({100 * share:.1f}%)")
        print(f"targets: suite < 600 s: {'met' if wall < 600 else 'MISSED'}; "
              f"overhead < 10%: {'met' if share < 0.10 else 'MISSED'}")
    print(f"reports: {writer.directory}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
