"""What a game day measures while people respond by hand: milestones, the declaration, the plan.

A drill asserts each phase; a game day only measures. The watch phase
(:mod:`pfdrill.drill.watch`) records a :class:`Milestone` the first time each
:class:`Measure` is reached, and the incident the responders declared. Times
are seconds since the drill started (monotonic), as on the timeline.
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.model.codec import Record
from pfdrill.model.drill import CheckSpec


class Measure(enum.Enum):
    """The response milestones a game day times, each from the injection."""

    DETECTION = "detection"
    DECLARATION = "declaration"
    MITIGATION = "mitigation"
    RECOVERY = "recovery"

    @property
    def title(self) -> str:
        return self.value.capitalize()

    @property
    def definition(self) -> str:
        return _DEFINITIONS[self]


_DEFINITIONS = {
    Measure.DETECTION: "injection → the first notification of an expected alert at the sink",
    Measure.DECLARATION: "injection → the responders' incident created in the incident store "
                         "(pfctl incident create)",
    Measure.MITIGATION: "injection → every mitigation check of the drill holds at once",
    Measure.RECOVERY: "injection → the steady state (and the recovery checks) hold again after "
                      "mitigation or the fault's rollback",
}


@dataclasses.dataclass(frozen=True)
class Milestone(Record):
    measure: Measure
    at: float  # seconds since the drill started
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class Declaration(Record):
    """The incident the responders declared, as the incident store holds it."""

    incident_id: str
    severity: str  # as declared
    created_wall: str
    at: float  # seconds since the drill started
    severity_now: str = ""  # after any ``pfctl incident update --severity``
    status: str = ""


@dataclasses.dataclass(frozen=True)
class WatchPlan(Record):
    """What the watch looks for: the drill's expected alerts and its outcome checks."""

    alerts: tuple[str, ...]
    mitigation: tuple[CheckSpec, ...]
    recovery: tuple[CheckSpec, ...] = ()
    # The root cause is "fixed" (the fault rolled back) once mitigation holds, so the team
    # can recover; otherwise only the facilitator rolls it back.
    rollback_when_mitigated: bool = True
