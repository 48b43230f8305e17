"""A drill's phases and its timeline of events.

Times are seconds since the drill started, read from a monotonic clock, so a
wall-clock jump (NTP, a laptop waking up) never shortens or lengthens an SLA
measurement. The wall-clock start is in the record header.
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.model.codec import Record


class Phase(enum.Enum):
    """The phases of a drill, in the order they run (DESIGN.md, "A drill, phase by phase")."""

    PREFLIGHT = "preflight"
    INJECT = "inject"
    DETECT = "detect"
    CLASSIFY = "classify"
    RESPOND = "respond"
    MITIGATE = "mitigate"
    RECOVER = "recover"
    CRITERIA = "criteria"
    RESTORE = "restore"

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    Phase.PREFLIGHT: "Preflight",
    Phase.INJECT: "Inject fault",
    Phase.DETECT: "Detect",
    Phase.CLASSIFY: "Classify",
    Phase.RESPOND: "Respond (runbook)",
    Phase.MITIGATE: "Verify mitigation",
    Phase.RECOVER: "Recover",
    Phase.CRITERIA: "Success criteria",
    Phase.RESTORE: "Restore",
}

PHASE_ORDER: tuple[Phase, ...] = tuple(Phase)


class PhaseStatus(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"  # ran, and its verdict or its SLA said no
    ERROR = "error"  # could not be carried out (exception, environment)
    SKIPPED = "skipped"  # not run because an earlier phase made it pointless

    @property
    def ok(self) -> bool:
        return self is PhaseStatus.PASSED


class EventKind(enum.Enum):
    PHASE_STARTED = "phase_started"
    PHASE_COMPLETED = "phase_completed"
    SAFETY = "safety"
    STEADY_STATE = "steady_state"
    SNAPSHOT = "snapshot"
    INJECTED = "injected"
    PROVEN = "proven"
    ALERT_FIRING = "alert_firing"
    NOTIFICATION = "notification"
    CLASSIFIED = "classified"
    COMMAND = "command"
    CHECK = "check"
    ROLLBACK = "rollback"
    CRITERION = "criterion"
    RESTORED = "restored"
    INTERRUPTED = "interrupted"
    ERROR = "error"
    NOTE = "note"
    MILESTONE = "milestone"  # a game day's response milestone (detection, declaration, ...)


@dataclasses.dataclass(frozen=True)
class TimelineEvent(Record):
    at: float  # seconds since the drill started (monotonic)
    kind: EventKind
    message: str
    phase: Phase | None = None


@dataclasses.dataclass(frozen=True)
class PhaseRecord(Record):
    """How one phase went.

    ``measured_s`` is the figure compared with ``budget_s``: the phase's own
    duration, except for DETECT and CLASSIFY, which are judged from the
    injection (MTTD, time to classify) because that is what the incident
    clock measures.
    """

    phase: Phase
    status: PhaseStatus
    started_at: float
    ended_at: float
    budget_s: float
    measured_s: float | None = None
    reason: str = ""

    @property
    def duration_s(self) -> float:
        return max(0.0, self.ended_at - self.started_at)

    @property
    def over_budget(self) -> bool:
        return self.measured_s is not None and self.measured_s > self.budget_s
