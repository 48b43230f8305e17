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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from pfdrill.drill import suitefile
from pfdrill.drill.clock import SystemClock
from pfdrill.drill.engine import Drill
from pfdrill.drill.environment import DrillEnvironment, EnvironmentFactory
from pfdrill.drill.observer import BaseObserver, DrillObserver
from pfdrill.drill.ports import Clock
from pfdrill.errors import ContractGap, EnvironmentProblem, SafetyRefused
from pfdrill.history import store
from pfdrill.model.drill import DrillSpec, SuiteSpec
from pfdrill.model.header import RecordHeader
from pfdrill.model.result import DrillResult, SuiteResult
from pfdrill.model.sla import TimingProfile
from pfdrill.report import writer


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable and unique: ``20260105T090000Z-3f9a``."""
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{when:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


class SuiteWriter(Protocol):
    """Something that keeps a suite run's reports (:class:`pfdrill.report.writer.ReportWriter`)."""

    def redact(self, secrets: Iterable[str]) -> None: ...

    def write(self, suite: SuiteResult) -> SuiteResult: ...


class SuiteRecorder(BaseObserver):
    """The one :class:`SuiteResult` of a run: drills added as they finish, writers told.

    A drill observer, so every entry point (a suite, the Gherkin scenarios of a
    pytest session, a game day) records its run the same way; the writers get
    the run so far after every drill and the environment's secrets before any.
    """

    def __init__(self, *, run_id: str, suite: str, file: str,
                 writers: Sequence[SuiteWriter] = (), clock: Clock | None = None) -> None:
        self.run_id, self.suite, self.file = run_id, suite, file
        self.writers = list(writers)
        self._clock = clock or SystemClock()
        self._start = self._clock.monotonic()
        self._header: RecordHeader | None = None
        self.results: list[DrillResult] = []

    def redact(self, secrets: tuple[str, ...]) -> None:
        for w in self.writers:
            w.redact(secrets)

    def started(self, header: RecordHeader, spec: DrillSpec, run_id: str) -> None:
        self._header = self._header or header

    def finished(self, result: DrillResult) -> None:
        self.results.append(result)
        self.write()

    def result(self) -> SuiteResult:
        return SuiteResult(
            run_id=self.run_id,
            header=self._header or RecordHeader.create(cluster="", context="", provider=""),
            suite=self.suite, file=self.file, results=tuple(self.results),
            duration_s=round(self._clock.monotonic() - self._start, 3))

    def write(self) -> SuiteResult:
        """Hand the run so far to every writer (also when no drill ran to its end)."""
        current = self.result()
        for w in self.writers:
            w.write(current)
        return current


class SuiteRunner:
    def __init__(self, suite: SuiteSpec, factory: EnvironmentFactory, *, run_id: str,
                 observers: Sequence[DrillObserver] = (),
                 writers: Sequence[SuiteWriter] = ()) -> None:
        self.suite = suite
        self.factory = factory
        self.run_id = run_id
        self.record = SuiteRecorder(run_id=run_id, suite=suite.name, file=suite.file,
                                    writers=writers)
        self.observers: list[DrillObserver] = [*observers, self.record]
        self._envs: dict[TimingProfile, DrillEnvironment] = {}

    @property
    def results(self) -> list[DrillResult]:
        return self.record.results

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
        refused: list[ContractGap] = []
        try:
            self.check()
            for spec in self.suite.drills:
                env = self._env(spec.profile)
                drill = Drill(spec, env, run_id=self.run_id, observers=self.observers)
                drill.run()  # an interrupt propagates after restore and observers
                if isinstance(drill.error, ContractGap):
                    refused.append(drill.error)  # this drill only; the others can run
                elif isinstance(drill.error, (EnvironmentProblem, SafetyRefused)):
                    raise drill.error
            if refused:
                raise ContractGap(f"{len(refused)} drill(s) refused in preflight: "
                                  f"{refused[0]}")
        finally:
            for env in self._envs.values():
                env.close()
            self.record.write()
        return self.record.result()


@dataclasses.dataclass(frozen=True)
class SuiteRun:
    result: SuiteResult
    report_dir: Path


def run_file(path: Path, factory: EnvironmentFactory, *, reports: Path, history: Path,
             only: Sequence[str] = (), profile: TimingProfile | None = None,
             extra_observers: Sequence[DrillObserver] = ()) -> SuiteRun:
    """What ``pfdrill drill run`` does: load, check, run, report, record history.

    Reports go to ``reports/<run-id>/``; they are (re)written after every
    drill, so an interrupt still leaves the reports of the drills that finished.
    """
    suite = suitefile.select(suitefile.load(path, profile=profile), list(only))
    run_id = new_run_id()
    out = reports / run_id
    recorder = store.HistoryRecorder(store.HistoryStore(history))
    runner = SuiteRunner(suite, factory, run_id=run_id,
                         observers=[*extra_observers, recorder],
                         writers=[writer.ReportWriter(out)])
    result = runner.run()
    return SuiteRun(result=result, report_dir=out)
