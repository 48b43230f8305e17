"""The engine's collaborators, as interfaces.

The drill engine talks to the world only through these protocols, so it can
be exercised in unit tests with :mod:`pfdrill.drill.fake` and wired to the
real fabric, Prometheus/Alertmanager, the sink, chaostoolkit and the runbook
executor by :mod:`pfdrill.drill.wiring`. Times crossing these interfaces are
wall-clock ``datetime`` in UTC (that is what Prometheus, the sink and the
incident store speak); the engine converts them to drill-relative seconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from pfdrill.model.drill import ParamValue
from pfdrill.model.evidence import (
    Artifact,
    ChaosJournal,
    Classification,
    CommandOutcome,
    IncidentRecord,
    Notification,
    ProbeSample,
    Signal,
)
from pfdrill.model.fault import FaultObservation


@runtime_checkable
class Clock(Protocol):
    """Monotonic time for measuring, wall time for talking to the world."""

    def monotonic(self) -> float: ...

    def now(self) -> dt.datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SteadyStateProbe(Protocol):
    """The steady-state hypothesis: probes with tolerances on the fabric."""

    def check(self) -> Sequence[ProbeSample]: ...


class Fault(Protocol):
    """One fault instance for one drill; remembers what it changed so rollback is exact."""

    def validate(self, params: Mapping[str, ParamValue]) -> None:
        """Raise :class:`~pfdrill.errors.InvalidInput` for bad parameters; change nothing."""
        ...

    def inject(self, params: Mapping[str, ParamValue]) -> None: ...

    def prove(self) -> FaultObservation: ...

    def rollback(self) -> None:
        """Undo exactly what :meth:`inject` changed; safe to call twice or before inject."""
        ...

    def root_cause_terms(self) -> Sequence[str]:
        """Words a correct root-cause statement for this fault mentions (any one suffices)."""
        ...

    def journal(self) -> ChaosJournal | None: ...


class FaultCatalog(Protocol):
    def names(self) -> Sequence[str]: ...

    def create(self, name: str) -> Fault:
        """A fresh fault; :class:`~pfdrill.errors.InvalidInput` if the name is unknown."""
        ...


@dataclasses.dataclass(frozen=True)
class AlertSighting:
    """An alert seen around a drill, with wall-clock moments."""

    alert: str
    firing: dt.datetime | None = None
    notified: dt.datetime | None = None
    severity_label: str = ""
    receiver: str = ""
    bound_s: float | None = None


class Detector(Protocol):
    def wait_for_notification(
        self, alerts: Sequence[str], since: dt.datetime, timeout_s: float
    ) -> Sequence[AlertSighting]:
        """Block until a notification for one of ``alerts`` arrived after ``since``, or timeout.

        Returns every alert seen firing or notified since ``since`` (expected or
        not), so a report can show what else went off.
        """
        ...


class Classifier(Protocol):
    def withdraw_baseline(self) -> None:
        """Forget any baseline published before this drill (another drill's, another run's):
        until this drill measures its own, relative rules compare with the recent past."""
        ...

    def baseline(self) -> Sequence[Signal]:
        """Measure the signals the severity table compares against, in steady state."""
        ...

    def classify(self, baseline: Sequence[Signal]) -> Classification: ...


@dataclasses.dataclass(frozen=True)
class CommandRun:
    """One runbook command as the executor ran it (wall-clock start)."""

    command: str
    outcome: CommandOutcome
    exit_code: int | None
    started: dt.datetime
    duration_s: float
    output: str = ""
    reason: str = ""
    line: int | None = None


@dataclasses.dataclass(frozen=True)
class SectionRun:
    section: str
    ok: bool
    commands: tuple[CommandRun, ...] = ()
    reason: str = ""


class RunbookRunner(Protocol):
    def validate(self, runbook: str, sections: Sequence[str]) -> None:
        """Raise :class:`~pfdrill.errors.InvalidInput` if the runbook or a section is missing."""
        ...

    def run_section(self, runbook: str, section: str, env: Mapping[str, str]) -> SectionRun: ...


class NotificationSource(Protocol):
    def notifications(self, since: dt.datetime) -> Sequence[Notification]: ...


class LogSource(Protocol):
    def lines(self, namespace: str, selector: str, since: dt.datetime) -> Sequence[str]: ...


class MetricsSource(Protocol):
    def instant(self, query: str) -> float | None:
        """The query's value now; ``None`` when the result is empty."""
        ...

    def series(
        self, query: str, start: dt.datetime, end: dt.datetime, step_s: float
    ) -> Sequence[tuple[dt.datetime, float]]: ...


class IncidentSource(Protocol):
    def incident(self, incident_id: str) -> IncidentRecord | None: ...


class ArtifactSource(Protocol):
    """Files the runbook produced (incident report, post-mortem PDF, collected tarballs)."""

    def artifacts(self) -> Sequence[Artifact]: ...

    def read_text(self, artifact: Artifact) -> str: ...


class RuleSource(Protocol):
    def loaded_rules(self) -> frozenset[str]:
        """Names of the alerting rules Prometheus has loaded right now."""
        ...


class StateKeeper(Protocol):
    """State outside the cluster that a drill may change (Prometheus rules, the sink baseline).

    Saved with the snapshot before the fault, put back by restore — also by
    the next run after a SIGKILL, so ``save`` returns plain text for the file.
    """

    name: str

    def save(self) -> str: ...

    def restore(self, saved: str) -> Sequence[str]:
        """Put ``saved`` back; return what was done (empty when nothing differed)."""
        ...


# --- game days: what the watch phase asks of the people around it ---------------------------
class Directive(enum.Enum):
    CARRY_ON = "carry_on"
    ROLL_BACK = "roll_back"  # the root cause is fixed: take the fault out
    STOP = "stop"  # abort or end the inject: stop watching (restore follows)


@dataclasses.dataclass(frozen=True)
class Steer:
    directive: Directive = Directive.CARRY_ON
    reason: str = ""


class Steering(Protocol):
    """The facilitator, as the watch phase (:mod:`pfdrill.drill.watch`) sees them."""

    def steer(self) -> Steer:
        """What the facilitator wants now; asked once per poll."""
        ...


class IncidentLog(Protocol):
    """The incident store the responders declare their incidents in."""

    def declared(self, since: dt.datetime) -> Sequence[IncidentRecord]:
        """Incidents created at or after ``since`` (as the store holds them now), oldest first."""
        ...
