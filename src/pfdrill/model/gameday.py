"""Game days: the plan, the state a facilitator drives, and the after-action report.

A game day is a drill file played by people: the facilitator starts each
inject when the room is ready, the responders act by hand, pfdrill measures
(:mod:`pfdrill.model.watch`). Times named ``wall`` are Unix seconds (they
cross processes and restarts); milestones keep the drill's own seconds. The
*game time* of a measure is its time since the injection minus the time the
facilitator held the inject paused.
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.model.codec import Record
from pfdrill.model.drill import DrillSpec
from pfdrill.model.watch import Declaration, Measure, Milestone


class Role(enum.Enum):
    FACILITATOR = "facilitator"  # controls the game day, sees everything
    RESPONDER = "responder"  # read-only; the expected answers stay hidden until revealed
    OBSERVER = "observer"  # read-only, sees everything, adds notes to the timeline


class InjectStatus(enum.Enum):
    PENDING = "pending"
    STARTING = "starting"  # preflight and injection under way
    RUNNING = "running"  # injected: the team responds, pfdrill measures
    RECOVERED = "recovered"  # recovery measured, then stopped (or settled); restored
    ENDED = "ended"  # ended by the facilitator (or the timebox) before recovery; restored
    ABORTED = "aborted"  # aborted by the facilitator; restored
    NOT_STARTED = "not_started"  # preflight or injection failed; restored

    @property
    def active(self) -> bool:
        return self in (InjectStatus.STARTING, InjectStatus.RUNNING)

    @property
    def finished(self) -> bool:
        return self in (InjectStatus.RECOVERED, InjectStatus.ENDED, InjectStatus.ABORTED,
                        InjectStatus.NOT_STARTED)


class GameDayStatus(enum.Enum):
    READY = "ready"  # waiting for the facilitator (no inject, or between injects)
    FINISHED = "finished"


class Action(enum.Enum):
    """What the facilitator (and, for notes, an observer) can ask of a running game day."""

    INJECT = "inject"  # start an inject: preflight, inject the fault, watch the team
    PAUSE = "pause"  # hold the inject's clock (a break in the room)
    RESUME = "resume"
    EXTEND = "extend"  # give a measure (or all) more time
    HINT = "hint"  # tell the responders something (one of the plan's hints, or free text)
    REVEAL = "reveal"  # show the responders the expected answers of an inject
    NOTE = "note"  # an observer's note on the timeline
    ROLLBACK = "rollback"  # the root cause is fixed: take the fault out
    STOP = "stop"  # end the running inject (restored), e.g. when the room has seen enough
    ABORT = "abort"  # stop the running inject now (restored)
    END = "end"  # end the game day (a running inject is stopped first) and write the report
    DETACH = "detach"  # exit, leaving the running inject to a restarted process


@dataclasses.dataclass(frozen=True)
class Command(Record):
    action: Action
    drill: str = ""  # INJECT, REVEAL
    measure: str = ""  # EXTEND: a Measure value; empty extends every measure
    seconds: float = 0.0  # EXTEND
    text: str = ""  # HINT (free text), NOTE
    hint: int | None = None  # HINT: the plan's hint number, from 1
    author: str = ""  # NOTE


@dataclasses.dataclass(frozen=True)
class InjectPlan(Record):
    """One inject: a drill of the file, with what the room is told and the budgets."""

    drill: DrillSpec
    title: str  # what responders see instead of the drill's name ("Inject 2")
    budgets: dict[str, float]  # Measure value -> seconds from the injection
    timebox_s: float  # the inject ends (and is restored) this long after the injection
    brief: str = ""  # what responders are told when it starts: symptoms, not causes
    hints: tuple[str, ...] = ()
    rollback_when_mitigated: bool = True
    # After recovery the room is still at work (finishing the runbook): the inject is
    # restored when the facilitator stops it, or this long after recovery at the latest.
    settle_s: float = 60.0

    @property
    def name(self) -> str:
        return self.drill.name

    def budget(self, measure: Measure) -> float:
        return self.budgets[measure.value]


@dataclasses.dataclass(frozen=True)
class GameDayPlan(Record):
    name: str
    title: str
    file: str
    injects: tuple[InjectPlan, ...]
    facilitator: str = ""
    description: str = ""

    def inject(self, name: str) -> InjectPlan | None:
        return next((i for i in self.injects if i.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.injects)


@dataclasses.dataclass(frozen=True)
class Pause(Record):
    start: float
    end: float | None = None


@dataclasses.dataclass(frozen=True)
class Extension(Record):
    measure: Measure
    seconds: float
    wall: float


@dataclasses.dataclass(frozen=True)
class Hint(Record):
    wall: float
    text: str


@dataclasses.dataclass(frozen=True)
class Note(Record):
    wall: float
    author: str
    role: Role
    text: str
    inject: str = ""  # the inject running when it was written


@dataclasses.dataclass(frozen=True)
class ActionItem(Record):
    """A follow-up from a game day, tracked until a ``pfctl action close``."""

    id: str
    title: str
    owner: str
    due: str  # YYYY-MM-DD
    source: str = ""  # "gameday:<id>"
    inject: str = ""
    status: str = "open"  # open | closed
    created_wall: str = ""
    closed_wall: str | None = None
    closed_by: str = ""
    resolution: str = ""


@dataclasses.dataclass(frozen=True)
class InjectState(Record):
    name: str
    status: InjectStatus = InjectStatus.PENDING
    started_wall: float | None = None  # the facilitator started it
    t0_wall: float | None = None  # the drill's clock origin (its seconds count from here)
    injected_at: float | None = None  # drill seconds: the fault's inject action completed
    pauses: tuple[Pause, ...] = ()
    extensions: tuple[Extension, ...] = ()
    hints: tuple[Hint, ...] = ()
    revealed: bool = False
    milestones: tuple[Milestone, ...] = ()
    declaration: Declaration | None = None
    rolled_back_wall: float | None = None
    ended_wall: float | None = None
    ended: str = ""  # why it ended
    restored: bool | None = None
    restore_detail: str = ""
    incident_id: str = ""  # the drill's incident id (the responders choose their own)

    @property
    def injected_wall(self) -> float | None:
        if self.t0_wall is None or self.injected_at is None:
            return None
        return self.t0_wall + self.injected_at

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    def paused_s(self, until: float) -> float:
        """Seconds held paused between the injection and ``until`` (wall)."""
        start = self.injected_wall
        if start is None:
            return 0.0
        total = 0.0
        for p in self.pauses:
            lo, hi = max(p.start, start), min(p.end if p.end is not None else until, until)
            total += max(0.0, hi - lo)
        return total

    def game_time(self, wall: float) -> float | None:
        """Seconds from the injection to ``wall``, pauses excluded."""
        start = self.injected_wall
        if start is None:
            return None
        return max(0.0, wall - start - self.paused_s(wall))

    def milestone_wall(self, m: Milestone) -> float | None:
        return None if self.t0_wall is None else self.t0_wall + m.at

    def reached(self, measure: Measure) -> Milestone | None:
        return next((m for m in self.milestones if m.measure is measure), None)

    def budget(self, plan: InjectPlan, measure: Measure) -> float:
        return plan.budget(measure) + self.extended(measure)

    def extended(self, measure: Measure) -> float:
        return sum(e.seconds for e in self.extensions if e.measure is measure)


@dataclasses.dataclass(frozen=True)
class GameDayState(Record):
    id: str
    plan: GameDayPlan
    started_wall: float
    injects: tuple[InjectState, ...]
    status: GameDayStatus = GameDayStatus.READY
    current: str | None = None  # the inject starting or running
    ended_wall: float | None = None
    notes: tuple[Note, ...] = ()
    dashboard_url: str = ""
    workspace: str = ""  # the responders' working directory

    def inject(self, name: str) -> InjectState | None:
        return next((i for i in self.injects if i.name == name), None)

    @property
    def running(self) -> InjectState | None:
        return self.inject(self.current) if self.current else None

    def with_inject(self, state: InjectState) -> GameDayState:
        return dataclasses.replace(self, injects=tuple(
            state if i.name == state.name else i for i in self.injects))


# --- the after-action report -------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MeasureResult(Record):
    measure: Measure
    budget_s: float  # with the facilitator's extensions
    extended_s: float = 0.0
    elapsed_s: float | None = None  # game time from the injection; None: never reached
    over_budget: bool = False
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class TimelineEntry(Record):
    """One line of an inject's timeline in the after-action report."""

    wall: float
    source: str  # drill | alert | notification | kubernetes | responder | incident | facilitator | observer
    message: str
    since_injection: float | None = None
    kind: str = ""


@dataclasses.dataclass(frozen=True)
class InjectReport(Record):
    title: str
    drill: str
    status: InjectStatus
    description: str = ""
    fault: str = ""
    ended: str = ""
    expected_severity: str = ""
    declared_severity: str | None = None
    severity_now: str | None = None
    incident_id: str = ""
    measures: tuple[MeasureResult, ...] = ()
    hints: tuple[Hint, ...] = ()
    paused_s: float = 0.0
    timeline: tuple[TimelineEntry, ...] = ()
    restored: bool | None = None
    restore_detail: str = ""
    runbook_sections: tuple[str, ...] = ()
    started_wall: float | None = None

    @property
    def severity_matches(self) -> bool | None:
        if self.declared_severity is None:
            return None
        return self.declared_severity == self.expected_severity

    @property
    def over_budget(self) -> tuple[Measure, ...]:
        return tuple(m.measure for m in self.measures if m.over_budget)


@dataclasses.dataclass(frozen=True)
class AfterActionReport(Record):
    id: str
    title: str
    file: str
    started_wall: float
    injects: tuple[InjectReport, ...]
    ended_wall: float | None = None
    facilitator: str = ""
    description: str = ""
    cluster: str = ""
    context: str = ""
    pfdrill_version: str = ""
    notes: tuple[Note, ...] = ()
    actions: tuple[ActionItem, ...] = ()
    generated_wall: float = 0.0
    definitions: dict[str, str] = dataclasses.field(default_factory=lambda: {
        m.value: m.definition for m in Measure})
