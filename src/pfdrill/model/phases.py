"""What each phase of a drill found: one typed record per phase (STYLE.md 14).

A phase is a function that takes its inputs and returns one of these; the
sequencer (:mod:`pfdrill.drill.sequencer`) keeps them in the drill's
append-only recorder and folds them into the
:class:`~pfdrill.model.result.DrillResult`. Nothing writes a drill's state
from the side: what a phase knows is what earlier records say.

Every record carries its :class:`Outcome` (the phase's verdict before the SLA
budget is applied) and the evidence the reports show. Times are seconds
since the drill started, as on the timeline.
"""

from __future__ import annotations

import dataclasses

from pfdrill.model.codec import Record
from pfdrill.model.evidence import (
    AlertEvidence,
    Artifact,
    CheckEvidence,
    Classification,
    CriterionResult,
    DetectionPace,
    FaultProof,
    IncidentRecord,
    Notification,
    RestoreRecord,
    SectionEvidence,
    Signal,
    SteadyState,
)
from pfdrill.model.timeline import Phase, PhaseStatus
from pfdrill.model.watch import Declaration, Measure, Milestone


@dataclasses.dataclass(frozen=True)
class Outcome(Record):
    """A phase's own verdict; ``measured`` is the figure judged against the budget, if not
    the phase's duration (detection and classification are timed from the injection)."""

    status: PhaseStatus
    reason: str = ""
    measured: float | None = None

    @classmethod
    def passed(cls, reason: str = "", measured: float | None = None) -> Outcome:
        return cls(PhaseStatus.PASSED, reason, measured)

    @classmethod
    def failed(cls, reason: str, measured: float | None = None) -> Outcome:
        return cls(PhaseStatus.FAILED, reason, measured)


@dataclasses.dataclass(frozen=True)
class Preflight(Record):
    """Target allowed and opted in, lease taken, steady state proven, baseline measured."""

    PHASE = Phase.PREFLIGHT
    outcome: Outcome
    steady: SteadyState | None = None
    baseline: tuple[Signal, ...] = ()
    rules_before: tuple[str, ...] | None = None  # alert rules loaded before the drill
    stale_restore: RestoreRecord | None = None  # a killed run's snapshot, put back first


@dataclasses.dataclass(frozen=True)
class Injection(Record):
    """The fault injected, and whether it was seen to take effect."""

    PHASE = Phase.INJECT
    outcome: Outcome
    started_at: float | None = None  # the inject action began: evidence counts from here
    injected_at: float | None = None  # the inject action completed: measures count from here
    proof: FaultProof | None = None


@dataclasses.dataclass(frozen=True)
class Detection(Record):
    """Alerts around the injection and the first expected notification."""

    PHASE = Phase.DETECT
    outcome: Outcome
    alerts: tuple[AlertEvidence, ...] = ()
    mttd: float | None = None
    pace: DetectionPace | None = None  # MTTD against the physical bound


@dataclasses.dataclass(frozen=True)
class Triage(Record):
    """The live classification against the expected severity."""

    PHASE = Phase.CLASSIFY
    outcome: Outcome
    classification: Classification | None = None
    time_to_classify: float | None = None


@dataclasses.dataclass(frozen=True)
class Response(Record):
    """Runbook sections run (the respond phase, or those run while recovering)."""

    PHASE = Phase.RESPOND
    outcome: Outcome
    sections: tuple[SectionEvidence, ...] = ()


@dataclasses.dataclass(frozen=True)
class Mitigation(Record):
    """The drill's mitigation checks, and when they all held."""

    PHASE = Phase.MITIGATE
    outcome: Outcome
    checks: tuple[CheckEvidence, ...] = ()
    time_to_mitigate: float | None = None


@dataclasses.dataclass(frozen=True)
class Recovery(Record):
    """The fault rolled back, the recovery sections run, steady state (and checks) back."""

    PHASE = Phase.RECOVER
    outcome: Outcome
    sections: tuple[SectionEvidence, ...] = ()
    checks: tuple[CheckEvidence, ...] = ()
    steady: SteadyState | None = None
    mttr: float | None = None


@dataclasses.dataclass(frozen=True)
class Judgement(Record):
    """The runbook's success checklist, judged from the evidence gathered for it."""

    PHASE = Phase.CRITERIA
    outcome: Outcome
    sections: tuple[SectionEvidence, ...] = ()  # follow-up sections run first
    criteria: tuple[CriterionResult, ...] = ()
    incident: IncidentRecord | None = None
    artifacts: tuple[Artifact, ...] = ()
    notifications: tuple[Notification, ...] = ()


@dataclasses.dataclass(frozen=True)
class Restoration(Record):
    """Fault rolled back, snapshot put back, lease released."""

    PHASE = Phase.RESTORE
    outcome: Outcome
    record: RestoreRecord | None = None


@dataclasses.dataclass(frozen=True)
class Takeover(Record):
    """A successor process took a running drill over (a restarted game day): the dead
    holder's lease, its snapshot and its fault are now this process's to restore."""

    PHASE = Phase.PREFLIGHT
    outcome: Outcome
    previous_holder: str = ""
    snapshot_run: str | None = None  # the run whose snapshot was re-attached
    fault_armed: bool = False


@dataclasses.dataclass(frozen=True)
class Watch(Record):
    """People responded by hand (a game day): when each milestone was reached. Measured,
    never asserted; kept again at every milestone, so a successor resumes from the latest."""

    PHASE = Phase.RESPOND
    outcome: Outcome
    milestones: tuple[Milestone, ...] = ()
    declaration: Declaration | None = None
    rolled_back_at: float | None = None
    ended: str = ""  # why the watch ended: recovered, stopped by the facilitator, time up

    def reached(self, measure: Measure) -> Milestone | None:
        return next((m for m in self.milestones if m.measure is measure), None)


PhaseResult = (Preflight | Injection | Detection | Triage | Response | Mitigation | Recovery
               | Judgement | Restoration | Takeover | Watch)
