"""Evidence a drill collects: what was measured, observed, run and produced.

Every verdict in a drill report points at one of these records; a success
criterion or a phase never passes on anything else. Times named ``at`` are
seconds since the drill started (monotonic); ``*_wall`` fields are ISO-8601
UTC strings as the outside world (Prometheus, the sink, the incident store)
reported them.
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.model.codec import Record
from pfdrill.model.detection import Channel  # the sink's channels, one enum for both
from pfdrill.model.severity import Severity


@dataclasses.dataclass(frozen=True)
class ProbeSample(Record):
    """One steady-state probe: what it read and whether that is within tolerance."""

    name: str
    observed: str
    expected: str
    ok: bool


@dataclasses.dataclass(frozen=True)
class SteadyState(Record):
    at: float
    holds: bool
    samples: tuple[ProbeSample, ...] = ()

    @property
    def failing(self) -> tuple[ProbeSample, ...]:
        return tuple(s for s in self.samples if not s.ok)

    def describe_failures(self) -> str:
        return "; ".join(f"{s.name}: observed {s.observed}, expected {s.expected}"
                         for s in self.failing) or "no probe reported"


@dataclasses.dataclass(frozen=True)
class Signal(Record):
    """A named measured value (a baseline or a live signal)."""

    name: str
    value: float


@dataclasses.dataclass(frozen=True)
class FaultProof(Record):
    """The fault was (or was not) observed to take effect — by the fault itself, not its alert."""

    fault: str
    params: dict[str, str]
    injected_at: float
    proven: bool
    proven_at: float | None = None
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class AlertEvidence(Record):
    """An alert around the drill: when Prometheus had it firing, when a notification arrived."""

    alert: str
    expected: bool
    firing_at: float | None = None
    notified_at: float | None = None
    severity_label: str = ""
    receiver: str = ""
    # the earliest physics allows this alert's notification for the injected fault
    # (window fill + for + group_wait; pfdrill.detect.bound), and how that is made up
    bound_s: float | None = None
    bound_note: str = ""


@dataclasses.dataclass(frozen=True)
class DetectionPace(Record):
    """Measured MTTD against its physical bound: a gap above ``margin_s`` is a slow pipeline.

    ``alert`` is the expected alert notified first (the one MTTD measures);
    ``healthy_s`` the latest a healthy pipeline would have notified it (one whole
    scrape and evaluation more than the bound).
    """

    alert: str
    mttd_s: float
    bound_s: float
    healthy_s: float
    margin_s: float
    note: str = ""

    @property
    def gap_s(self) -> float:
        return self.mttd_s - self.bound_s

    @property
    def slow(self) -> bool:
        """A slow detection pipeline: more than ``margin_s`` lost beyond the bound."""
        return self.gap_s > self.margin_s

    def describe(self) -> str:
        return (f"{self.alert}: MTTD {self.mttd_s:.1f} s, bound {self.bound_s:.1f} s, "
                f"gap {self.gap_s:+.1f} s (margin {self.margin_s:g} s)")


@dataclasses.dataclass(frozen=True)
class Classification(Record):
    severity: Severity
    reasons: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()


class CommandOutcome(enum.Enum):
    OK = "ok"
    FAILED = "failed"
    NOT_EXECUTABLE = "not_executable"
    SKIPPED = "skipped"


@dataclasses.dataclass(frozen=True)
class CommandEvidence(Record):
    """One runbook command as the executor ran it."""

    section: str
    command: str
    outcome: CommandOutcome
    exit_code: int | None
    at: float
    duration_s: float
    output: str = ""  # an excerpt, redacted before any report
    reason: str = ""
    line: int | None = None


@dataclasses.dataclass(frozen=True)
class SectionEvidence(Record):
    section: str
    ok: bool
    commands: tuple[CommandEvidence, ...] = ()
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class CheckEvidence(Record):
    """An outcome check (ConfigMap value, replicas, notification, log line, metric)."""

    description: str
    ok: bool
    observed: str
    at: float
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Notification(Record):
    """A notification as drill evidence (the sink's full record is :mod:`pfdrill.model.detection`)."""

    channel: Channel
    received_wall: str
    text: str
    at: float | None = None
    alerts: tuple[str, ...] = ()  # alert names an Alertmanager notification carried


@dataclasses.dataclass(frozen=True)
class Artifact(Record):
    """A file a drill produced or collected (post-mortem PDF, incident report, journal)."""

    name: str
    path: str
    sha256: str
    size: int
    kind: str = ""


@dataclasses.dataclass(frozen=True)
class IncidentRecord(Record):
    """The incident as the incident store holds it (``pfctl incident ...``)."""

    incident_id: str
    severity: str
    status: str
    created_wall: str
    resolved_wall: str | None = None
    description: str = ""
    root_cause: str = ""
    resolution: str = ""
    postmortem_wall: str | None = None
    postmortem_document: str | None = None
    follow_ups: tuple[str, ...] = ()
    lessons: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class CriterionResult(Record):
    """One item of the runbook's success checklist, judged from evidence."""

    criterion: str
    title: str
    passed: bool
    reason: str
    evidence: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class SeriesPoint(Record):
    at: float
    value: float


@dataclasses.dataclass(frozen=True)
class MetricSeries(Record):
    """A metric around the injection, for the report's charts."""

    name: str
    query: str
    points: tuple[SeriesPoint, ...] = ()


@dataclasses.dataclass(frozen=True)
class JournalActivity(Record):
    name: str
    kind: str  # action | probe
    status: str
    duration_s: float
    output: str = ""


@dataclasses.dataclass(frozen=True)
class ChaosJournal(Record):
    """A chaostoolkit journal, summarised; the full journal is kept as an artifact."""

    experiment: str
    status: str
    steady_state_met: bool | None
    activities: tuple[JournalActivity, ...] = ()
    rollbacks: tuple[JournalActivity, ...] = ()


@dataclasses.dataclass(frozen=True)
class RestoreRecord(Record):
    """What the restore phase did and whether the cluster is back to the snapshot."""

    ok: bool
    at: float
    actions: tuple[str, ...] = ()
    remaining: tuple[str, ...] = ()  # differences still present after restoring
    reason: str = ""
    stale: bool = False  # a snapshot left by an earlier, killed run
