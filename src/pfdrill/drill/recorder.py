"""The drill's recorder: clock origin, timeline, phase records and what each phase found.

Append-only, written only through its methods. Phases read earlier findings
with :meth:`DrillRecorder.latest` / :meth:`DrillRecorder.all`; nothing is
ever overwritten, so the result is a fold of what was recorded
(:func:`pfdrill.drill.fold.result`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from pfdrill.drill.interrupts import DrillInterrupted
from pfdrill.drill.ports import Clock
from pfdrill.errors import PfdrillError
from pfdrill.model.header import RecordHeader
from pfdrill.model.phases import PhaseResult
from pfdrill.model.timeline import EventKind, Phase, PhaseRecord, TimelineEvent

R = TypeVar("R", bound=PhaseResult)


class DrillRecorder:
    def __init__(self, clock: Clock, header: RecordHeader, started: dt.datetime,
                 listener: Callable[[TimelineEvent], None] = lambda _e: None) -> None:
        self.clock = clock
        self._listener = listener  # told of every event as it is recorded (live views)
        self.header = header
        self.t0 = clock.monotonic()
        self.t0_wall = started
        self._timeline: list[TimelineEvent] = []
        self._phases: list[PhaseRecord] = []
        self._found: list[PhaseResult] = []
        self._unavailable: dict[str, str] = {}
        self._open: tuple[float, float] = (0.0, 0.0)  # the running phase: start, budget
        self._error: PfdrillError | None = None
        self._interrupted: DrillInterrupted | None = None

    @classmethod
    def resumed(cls, clock: Clock, header: RecordHeader, started: dt.datetime, *, t0: float,
                timeline: Sequence[TimelineEvent], phases: Sequence[PhaseRecord],
                found: Sequence[PhaseResult],
                listener: Callable[[TimelineEvent], None] = lambda _e: None) -> DrillRecorder:
        """A recorder carrying on where a dead process's left off (its checkpoint): same
        origin, same records; nothing is re-announced to the listener."""
        rec = cls(clock, header, started, listener)
        rec.t0 = t0
        rec._timeline = list(timeline)
        rec._phases = list(phases)
        rec._found = list(found)
        return rec

    # --- time -------------------------------------------------------------------------
    def elapsed(self) -> float:
        return self.clock.monotonic() - self.t0

    def offset(self, wall: dt.datetime) -> float:
        """Seconds since the drill started for a wall-clock time (an alert's, a command's)."""
        return (wall - self.t0_wall).total_seconds()

    def wall(self, at: float) -> dt.datetime:
        return self.t0_wall + dt.timedelta(seconds=at)

    def remaining(self) -> float:
        """What is left of the running phase's budget."""
        start, budget = self._open
        return max(0.0, start + budget - self.elapsed())

    # --- writing ----------------------------------------------------------------------
    def note(self, kind: EventKind, message: str, phase: Phase | None = None) -> None:
        self.event(self.elapsed(), kind, message, phase)

    def event(self, at: float, kind: EventKind, message: str,
              phase: Phase | None = None) -> None:
        """An event at a time of its own (an alert's firing, a command's start)."""
        event = TimelineEvent(at=round(at, 3), kind=kind, message=message, phase=phase)
        self._timeline.append(event)
        self._listener(event)

    def open_phase(self, budget_s: float) -> float:
        start = self.elapsed()
        self._open = (start, budget_s)
        return start

    def add_phase(self, record: PhaseRecord) -> None:
        self._phases.append(record)

    def keep(self, found: PhaseResult) -> None:
        self._found.append(found)

    def unavailable(self, source: str, why: str) -> None:
        """A source of evidence could not be read: criteria judging it say so."""
        self._unavailable.setdefault(source, why)
        self.note(EventKind.ERROR, f"{source} unavailable: {why}")

    def errored(self, error: PfdrillError) -> None:
        self._error = self._error or error

    def interrupted_by(self, exc: DrillInterrupted) -> None:
        self._interrupted = self._interrupted or exc

    # --- reading ----------------------------------------------------------------------
    @property
    def timeline(self) -> tuple[TimelineEvent, ...]:
        return tuple(sorted(self._timeline, key=lambda e: e.at))  # stable: ties keep order

    @property
    def phases(self) -> tuple[PhaseRecord, ...]:
        return tuple(self._phases)

    @property
    def found(self) -> tuple[PhaseResult, ...]:
        return tuple(self._found)

    @property
    def sources_unavailable(self) -> dict[str, str]:
        return dict(self._unavailable)

    @property
    def error(self) -> PfdrillError | None:
        """The first environment or safety error, if any."""
        return self._error

    @property
    def interrupted(self) -> DrillInterrupted | None:
        return self._interrupted

    def all(self, kind: type[R]) -> tuple[R, ...]:
        return tuple(f for f in self._found if isinstance(f, kind))

    def latest(self, kind: type[R]) -> R | None:
        for f in reversed(self._found):
            if isinstance(f, kind):
                return f
        return None
