"""One drill, operation by operation: the state both the engine and the Gherkin steps drive.

:class:`DrillSession` owns the monotonic clock origin, the timeline, the
evidence and the safety state (lease, snapshot, injected fault). The
operations live in modules by concern — :mod:`~pfdrill.drill.safety`
(preflight, restore), :mod:`~pfdrill.drill.injection`,
:mod:`~pfdrill.drill.detection` (detect, classify), :mod:`~pfdrill.drill.response`
(runbook sections, checks, recovery, success criteria) — and each returns an
:class:`Outcome`; :meth:`DrillSession.phase` runs one inside a phase with
its SLA budget, tells the observers and records a
:class:`~pfdrill.model.timeline.PhaseRecord`. :class:`~pfdrill.drill.engine.Drill`
sequences the phases from a drill file; :mod:`pfdrill.bdd` calls the same
operations from Gherkin steps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import os
import re
import socket
from collections.abc import Callable, Sequence
from typing import TypeVar

from pfdrill.drill import responder
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.observer import DrillObserver, Observers
from pfdrill.drill.ports import Fault
from pfdrill.drill.signals import DrillInterrupted
from pfdrill.drill.snapshot import Snapshot
from pfdrill.errors import PfdrillError
from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import (
    AlertEvidence,
    Artifact,
    CheckEvidence,
    Classification,
    CriterionResult,
    FaultProof,
    IncidentRecord,
    MetricSeries,
    Notification,
    RestoreRecord,
    SectionEvidence,
    Signal,
    SteadyState,
)
from pfdrill.model.header import RecordHeader
from pfdrill.model.result import DrillEvidence, DrillResult, Measures, Verdict
from pfdrill.model.timeline import EventKind, Phase, PhaseRecord, PhaseStatus, TimelineEvent

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: PhaseStatus
    reason: str = ""
    measured: float | None = None  # the figure judged against the budget, if not the duration

    @classmethod
    def passed(cls, reason: str = "", measured: float | None = None) -> Outcome:
        return cls(PhaseStatus.PASSED, reason, measured)

    @classmethod
    def failed(cls, reason: str, measured: float | None = None) -> Outcome:
        return cls(PhaseStatus.FAILED, reason, measured)


def holder_identity(run_id: str) -> str:
    """Who holds the drill lease: host and pid, so a dead holder on this host is recognisable."""
    return f"pfdrill/{socket.gethostname()}/{os.getpid()}/{run_id}"


class DrillSession:
    def __init__(self, spec: DrillSpec, env: DrillEnvironment, *, run_id: str,
                 observers: Sequence[DrillObserver] | Observers = (),
                 incident_id: str | None = None) -> None:
        self.spec = spec
        self.env = env
        self.run_id = run_id
        self.clock = env.clock
        self.observers = observers if isinstance(observers, Observers) else Observers(observers)
        self.t0 = self.clock.monotonic()
        self.t0_wall = self.clock.now()
        self.header = RecordHeader.create(cluster=env.cluster_name, context=env.cluster.context,
                                          provider=env.provider, now=self.t0_wall)
        self.incident_id = incident_id or drill_incident_id(run_id, spec.name)
        self.holder = holder_identity(run_id)
        self.timeline: list[TimelineEvent] = []
        self.phases: list[PhaseRecord] = []
        self.error: PfdrillError | None = None  # the first environment/safety error, if any
        self.interrupted: DrillInterrupted | None = None
        # evidence
        self.steady_before: SteadyState | None = None
        self.steady_after: SteadyState | None = None
        self.baseline: tuple[Signal, ...] = ()
        self.proof: FaultProof | None = None
        self.alerts: tuple[AlertEvidence, ...] = ()
        self.classification: Classification | None = None
        self.sections: list[SectionEvidence] = []
        self.mitigation: list[CheckEvidence] = []
        self.recovery: list[CheckEvidence] = []
        self.criteria: tuple[CriterionResult, ...] = ()
        self.notifications: tuple[Notification, ...] = ()
        self.series: tuple[MetricSeries, ...] = ()
        self.incident: IncidentRecord | None = None
        self.artifacts: tuple[Artifact, ...] = ()
        self.restore_record: RestoreRecord | None = None
        self.rules_before: frozenset[str] | None = None
        self.unavailable: dict[str, str] = {}
        # measures (seconds since injection)
        self.mttd: float | None = None
        self.time_to_classify: float | None = None
        self.time_to_mitigate: float | None = None
        self.mttr: float | None = None
        # safety state
        self.injected_at: float | None = None
        self.injected_wall: dt.datetime | None = None
        self.inject_started_wall: dt.datetime | None = None  # evidence "since the fault" from here
        self.fault: Fault | None = None
        self.fault_active = False
        self.snapshot: Snapshot | None = None
        self.lease_held = False
        self.phase_start = 0.0
        self.phase_budget = 0.0
        self.observers.started(self.header, spec, run_id)

    # --- time and events ----------------------------------------------------------
    def elapsed(self) -> float:
        return self.clock.monotonic() - self.t0

    def offset(self, wall: dt.datetime) -> float:
        return (wall - self.t0_wall).total_seconds()

    def evidence_since(self) -> dt.datetime:
        """Where evidence of the fault (logs, notifications) may start: the inject action's start."""
        return self.inject_started_wall or self.t0_wall

    def since_injection(self) -> float | None:
        return None if self.injected_at is None else self.elapsed() - self.injected_at

    def note(self, kind: EventKind, message: str, phase: Phase | None = None) -> None:
        self.timeline.append(TimelineEvent(at=round(self.elapsed(), 3), kind=kind,
                                           message=message, phase=phase))

    def budget(self, phase: Phase) -> float:
        return self.spec.sla.budget(phase)

    def remaining(self) -> float:
        return max(0.0, self.phase_start + self.phase_budget - self.elapsed())

    def poll(self, look: Callable[[], T], done: Callable[[T], bool],
              timeout_s: float) -> tuple[T, bool]:
        deadline = self.clock.monotonic() + max(0.0, timeout_s)
        while True:
            value = look()
            if done(value):
                return value, True
            now = self.clock.monotonic()
            if now >= deadline:
                return value, False
            self.clock.sleep(min(self.env.poll_interval_s, deadline - now))

    # --- phases -------------------------------------------------------------------
    def phase(self, phase: Phase, action: Callable[[], Outcome],
              budget_s: float | None = None) -> PhaseRecord:
        """Run ``action`` as ``phase``: budget, observers, timeline, a :class:`PhaseRecord`."""
        budget = self.budget(phase) if budget_s is None else budget_s
        self.phase_start, self.phase_budget = self.elapsed(), budget
        self.observers.phase_started(self.spec, phase, budget)
        self.note(EventKind.PHASE_STARTED, f"{phase.title} (budget {budget:g} s)", phase)
        start = self.phase_start
        interrupted: DrillInterrupted | None = None
        try:
            outcome = action()
        except DrillInterrupted as exc:
            interrupted = exc
            self.interrupted = self.interrupted or exc
            outcome = Outcome(PhaseStatus.ERROR, f"interrupted by {exc.signame}")
        except PfdrillError as exc:
            self.error = self.error or exc
            outcome = Outcome(PhaseStatus.ERROR, str(exc))
        except Exception as exc:
            log.exception("phase %s raised", phase.value)
            outcome = Outcome(PhaseStatus.ERROR, f"{type(exc).__name__}: {exc}")
        end = self.elapsed()
        measured = outcome.measured if outcome.measured is not None else end - start
        status, reason = outcome.status, outcome.reason
        if status is PhaseStatus.PASSED and measured > budget:
            status = PhaseStatus.FAILED
            reason = f"took {measured:.1f} s, over its {budget:g} s budget" + (
                f" ({outcome.reason})" if outcome.reason else "")
        record = PhaseRecord(phase=phase, status=status, started_at=round(start, 3),
                             ended_at=round(end, 3), budget_s=budget,
                             measured_s=round(measured, 3), reason=reason)
        self.phases.append(record)
        self.note(EventKind.PHASE_COMPLETED, f"{phase.title}: {status.value}"
                  + (f" — {reason}" if reason else ""), phase)
        self.observers.phase_completed(self.spec, record)
        if interrupted is not None:
            raise interrupted
        return record

    def skip(self, phase: Phase, reason: str) -> PhaseRecord:
        now = round(self.elapsed(), 3)
        record = PhaseRecord(phase=phase, status=PhaseStatus.SKIPPED, started_at=now,
                             ended_at=now, budget_s=self.budget(phase), reason=reason)
        self.phases.append(record)
        self.observers.phase_completed(self.spec, record)
        return record

    def read(self, source: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except PfdrillError as exc:
            self.unavailable[source] = str(exc)
            self.note(EventKind.ERROR, f"{source} unavailable: {exc}")
            return None

    # --- detect -------------------------------------------------------------------
    # --- runbook ------------------------------------------------------------------
    def runbook_variables(self) -> dict[str, str]:
        view = responder.ResponderView(
            drill=self.spec.name, incident_id=self.incident_id,
            expected=self.spec.expected_severity, classification=self.classification,
            alerts=self.alerts, sections=tuple(self.sections),
            since_injection_s=self.since_injection(), mttd_s=self.mttd)
        return {**self.env.runbook_env, **responder.variables(view)}

    # --- recover ------------------------------------------------------------------
    # --- evidence for charts ------------------------------------------------------
    # --- result -------------------------------------------------------------------
    def result(self) -> DrillResult:
        failing = next((p for p in self.phases
                        if p.status in (PhaseStatus.FAILED, PhaseStatus.ERROR)), None)
        if self.interrupted is not None:
            verdict = Verdict.INTERRUPTED
        elif any(p.status is PhaseStatus.ERROR for p in self.phases):
            verdict = Verdict.ERROR
        elif failing is not None:
            verdict = Verdict.FAILED
        else:
            verdict = Verdict.PASSED
        if verdict is Verdict.INTERRUPTED and self.interrupted is not None:
            reason = str(self.interrupted)
        else:
            reason = failing.reason if failing else ""
        journal = self.fault.journal() if self.fault is not None else None
        evidence = DrillEvidence(
            steady_before=self.steady_before, baseline=self.baseline, proof=self.proof,
            alerts=self.alerts, classification=self.classification,
            sections=tuple(self.sections), mitigation=tuple(self.mitigation),
            recovery=tuple(self.recovery), steady_after=self.steady_after,
            criteria=self.criteria, notifications=self.notifications, series=self.series,
            journal=journal, incident=self.incident, artifacts=self.artifacts)
        return DrillResult(
            header=self.header, run_id=self.run_id, spec=self.spec, verdict=verdict,
            phases=tuple(self.phases), timeline=tuple(self.timeline), evidence=evidence,
            measures=Measures(mttd=_r3(self.mttd), time_to_classify=_r3(self.time_to_classify),
                              time_to_mitigate=_r3(self.time_to_mitigate), mttr=_r3(self.mttr)),
            incident_id=self.incident_id,
            failing_phase=failing.phase if failing else None, reason=reason,
            injected_at=_r3(self.injected_at), duration_s=round(self.elapsed(), 3),
            restore=self.restore_record)

def _r3(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


INCIDENT_ID_MAX = 64  # incident stores (pfctl's among them) cap ids at 64 characters


def drill_incident_id(run_id: str, drill: str) -> str:
    """``DRILL-<run>-<drill>``, with a long drill name cut and made unique by a short hash."""
    name = re.sub(r"[^A-Za-z0-9._:-]+", "-", drill).strip("-") or "drill"
    head = f"DRILL-{run_id}-"
    if len(head) + len(name) <= INCIDENT_ID_MAX:
        return head + name
    digest = hashlib.sha256(drill.encode()).hexdigest()[:8]
    keep = max(1, INCIDENT_ID_MAX - len(head) - len(digest) - 1)
    return f"{head}{name[:keep].rstrip('-')}-{digest}"
