"""What a drill run produced: verdict, phases, timeline, evidence and the incident measures.

The measures are defined once, here, and printed in every report so nobody
has to guess which "R" MTTR means (see :data:`MEASURE_DEFINITIONS`).
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.model.codec import Record
from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import (
    AlertEvidence,
    Artifact,
    ChaosJournal,
    CheckEvidence,
    Classification,
    CriterionResult,
    DetectionPace,
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
from pfdrill.model.timeline import Phase, PhaseRecord, TimelineEvent


class Verdict(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"  # the drill ran and a phase said no
    ERROR = "error"  # the drill could not be carried out (environment, exception)
    INTERRUPTED = "interrupted"  # SIGINT/SIGTERM; restored, not judged

    @property
    def ok(self) -> bool:
        return self is Verdict.PASSED


MEASURE_DEFINITIONS: dict[str, str] = {
    "mttd": "MTTD, time to detect: injection (the fault's inject action completed) → the first "
            "notification of an expected alert received by the sink",
    "time_to_classify": "time to classify: injection → the live classification first equals the "
                        "expected severity (or the classify budget ends)",
    "time_to_mitigate": "time to mitigate: injection → every mitigation check holds",
    "mttr": "MTTR, time to restore service: injection → the steady-state probes hold again after "
            "the recovery procedures (not the pfdrill snapshot restore)",
    "bound": "bound: the earliest physics allows that notification for the injected fault — the "
             "rate window filled far enough to cross the threshold, then `for`, then Alertmanager's "
             "group_wait, counted like MTTD from the end of the inject action (a fault in effect "
             "before its action returns can beat it); gap = MTTD − bound, and a gap above the "
             "configured margin flags a slow detection pipeline",
}


@dataclasses.dataclass(frozen=True)
class Measures(Record):
    """Incident measures in seconds from the injection; ``None`` when never reached."""

    mttd: float | None = None
    time_to_classify: float | None = None
    time_to_mitigate: float | None = None
    mttr: float | None = None

    def items(self) -> tuple[tuple[str, float | None], ...]:
        return (("mttd", self.mttd), ("time_to_classify", self.time_to_classify),
                ("time_to_mitigate", self.time_to_mitigate), ("mttr", self.mttr))


@dataclasses.dataclass(frozen=True)
class DrillEvidence(Record):
    steady_before: SteadyState | None = None
    baseline: tuple[Signal, ...] = ()
    proof: FaultProof | None = None
    alerts: tuple[AlertEvidence, ...] = ()
    pace: DetectionPace | None = None  # MTTD against the physical bound
    classification: Classification | None = None
    sections: tuple[SectionEvidence, ...] = ()
    mitigation: tuple[CheckEvidence, ...] = ()
    recovery: tuple[CheckEvidence, ...] = ()
    steady_after: SteadyState | None = None
    criteria: tuple[CriterionResult, ...] = ()
    notifications: tuple[Notification, ...] = ()
    series: tuple[MetricSeries, ...] = ()
    journal: ChaosJournal | None = None
    incident: IncidentRecord | None = None
    artifacts: tuple[Artifact, ...] = ()


@dataclasses.dataclass(frozen=True)
class DrillResult(Record):
    header: RecordHeader
    run_id: str
    spec: DrillSpec
    verdict: Verdict
    phases: tuple[PhaseRecord, ...]
    timeline: tuple[TimelineEvent, ...]
    evidence: DrillEvidence
    measures: Measures
    incident_id: str
    failing_phase: Phase | None = None
    reason: str = ""
    injected_at: float | None = None
    duration_s: float = 0.0
    restore: RestoreRecord | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def phase(self, phase: Phase) -> PhaseRecord | None:
        for record in self.phases:
            if record.phase is phase:
                return record
        return None

    def headline(self) -> str:
        """One line: ``adapter-fail-open: FAILED in detect — no notification ...``."""
        if self.verdict.ok:
            return f"{self.name}: PASSED"
        where = f" in {self.failing_phase.value}" if self.failing_phase else ""
        return f"{self.name}: {self.verdict.value.upper()}{where} — {self.reason}"


@dataclasses.dataclass(frozen=True)
class SuiteResult(Record):
    run_id: str
    header: RecordHeader
    suite: str
    file: str
    results: tuple[DrillResult, ...] = ()
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.verdict.ok for r in self.results)

    @property
    def counts(self) -> dict[str, int]:
        out = {v.value: 0 for v in Verdict}
        for r in self.results:
            out[r.verdict.value] += 1
        return out
