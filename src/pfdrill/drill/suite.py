"""Run a suite of drills, one after the other, against one environment per timing profile.

The suite stops early only when carrying on is pointless or unsafe: an
environment problem (the cluster or Prometheus went away), a safety refusal
(another drill holds the lease), or an interrupt. Those are re-raised after
the observers have seen every finished drill, so the reports exist and the
CLI still exits with the right code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Sequence
from pathlib import Path

from pfdrill.drill import suitefile
from pfdrill.drill.clock import SystemClock
from pfdrill.drill.engine import Drill
from pfdrill.drill.environment import DrillEnvironment, EnvironmentFactory
from pfdrill.drill.observer import DrillObserver
from pfdrill.errors import EnvironmentProblem, SafetyRefused
from pfdrill.history import store
from pfdrill.model.drill import SuiteSpec
from pfdrill.model.header import RecordHeader
from pfdrill.model.result import DrillResult, SuiteResult
from pfdrill.model.sla import TimingProfile
from pfdrill.report import writer


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable and unique: ``20260105T090000Z-3f9a``."""
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{when:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


class SuiteRunner:
    def __init__(self, suite: SuiteSpec, factory: EnvironmentFactory, *, run_id: str,
                 observers: Sequence[DrillObserver] = ()) -> None:
        self.suite = suite
        self.factory = factory
        self.run_id = run_id
        self.observers = list(observers)
        self.results: list[DrillResult] = []
        self._envs: dict[TimingProfile, DrillEnvironment] = {}

    def _env(self, profile: TimingProfile) -> DrillEnvironment:
        if profile not in self._envs:
            self._envs[profile] = self.factory.build(profile)
        return self._envs[profile]

    def check(self) -> None:
        """Ask the real fault catalog and runbook executor about every drill, before any runs."""
        for profile in dict.fromkeys(d.profile for d in self.suite.drills):
            env = self._env(profile)
            suitefile.check(dataclasses.replace(self.suite, drills=tuple(
                d for d in self.suite.drills if d.profile is profile)), env.faults, env.runbook)

    def run(self) -> SuiteResult:
        clock = SystemClock()
        start = clock.monotonic()
        header: RecordHeader | None = None
        try:
            self.check()
            for spec in self.suite.drills:
                env = self._env(spec.profile)
                drill = Drill(spec, env, run_id=self.run_id, observers=self.observers)
                result = drill.run()  # an interrupt propagates after restore and observers
                header = header or result.header
                self.results.append(result)
                if isinstance(drill.error, (EnvironmentProblem, SafetyRefused)):
                    raise drill.error
        finally:
            for env in self._envs.values():
                env.close()
        return SuiteResult(
            run_id=self.run_id,
            header=header or RecordHeader.create(cluster="", context="", provider=""),
            suite=self.suite.name, file=self.suite.file, results=tuple(self.results),
            duration_s=round(clock.monotonic() - start, 3))


@dataclasses.dataclass(frozen=True)
class Outcome:
    result: SuiteResult
    report_dir: Path


def run_file(path: Path, factory: EnvironmentFactory, *, reports: Path, history: Path,
             only: Sequence[str] = (), profile: TimingProfile | None = None,
             extra_observers: Sequence[DrillObserver] = ()) -> Outcome:
    """What ``pfdrill drill run`` does: load, check, run, report, record history.

    Reports go to ``reports/<run-id>/``; they are (re)written after every
    drill, so an interrupt still leaves the reports of the drills that finished.
    """
    suite = suitefile.select(suitefile.load(path, profile=profile), list(only))
    run_id = new_run_id()
    out = reports / run_id
    rw = writer.ReportWriter(out, run_id=run_id, suite=suite.name, file=suite.file)
    recorder = store.HistoryRecorder(store.HistoryStore(history))
    runner = SuiteRunner(suite, _Secrets(factory, rw), run_id=run_id,
                         observers=[*extra_observers, rw, recorder])
    result = runner.run()
    rw.write()  # also when the suite ran no drill to its end
    return Outcome(result=result, report_dir=out)


class _Secrets:
    """Hands each environment's secrets to the report writer as it is built."""

    def __init__(self, factory: EnvironmentFactory, rw: writer.ReportWriter) -> None:
        self._factory = factory
        self._rw = rw

    def build(self, profile: TimingProfile) -> DrillEnvironment:
        env = self._factory.build(profile)
        webhooks = [v for k, v in env.runbook_env.items() if "WEBHOOK" in k or "TOKEN" in k]
        self._rw.secrets = (*self._rw.secrets, *env.secrets, *webhooks)
        return env
