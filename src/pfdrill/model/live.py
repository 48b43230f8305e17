"""Live events: what a running drill or game day publishes as it happens, for live views.

``pfdrill drill run`` and ``pfdrill gameday run`` append one JSON line per
:class:`LiveEvent` to a journal under the state directory
(:mod:`pfdrill.drill.live`); the dashboard tails it. The dashboard adds
:class:`Observation` events of its own (alerts, notifications, cluster
changes, responder commands) and metric series. ``wall`` is when the event
was published (Unix seconds): a browser's clock minus it is the latency of
the live view.
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.model.codec import Record
from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import MetricSeries, RestoreRecord
from pfdrill.model.gameday import GameDayState
from pfdrill.model.result import Measures
from pfdrill.model.timeline import Phase, PhaseRecord, TimelineEvent


class LiveKind(enum.Enum):
    DRILL_STARTED = "drill_started"
    PHASE_STARTED = "phase_started"
    EVENT = "event"  # one timeline event
    PHASE_COMPLETED = "phase_completed"
    RESTORED = "restored"
    DRILL_FINISHED = "drill_finished"
    GAMEDAY = "gameday"  # the game day's state after a change, with what changed
    OBSERVED = "observed"  # something seen in the world around the drill
    SERIES = "series"  # metric curves around the injection


class Source(enum.Enum):
    """Where an observation of the world came from."""

    PROMETHEUS = "prometheus"  # alerts pending, firing, resolved
    SINK = "sink"  # notifications received
    KUBERNETES = "kubernetes"  # ConfigMap and Deployment changes, Kubernetes events
    RESPONDER = "responder"  # commands the responders ran (kubectl, curl, pfctl)
    INCIDENTS = "incidents"  # incident-store updates (pfctl incident ...)


@dataclasses.dataclass(frozen=True)
class Observation(Record):
    wall: float  # when it happened (or was first seen)
    source: Source
    kind: str  # firing | pending | resolved | notification | configmap | deployment | event | command | incident
    subject: str  # alert, channel, object or tool
    message: str
    level: str = "info"  # info | warning | critical: how a view colours it


@dataclasses.dataclass(frozen=True)
class LiveEvent(Record):
    wall: float
    run_id: str
    kind: LiveKind
    drill: str = ""
    phase: Phase | None = None
    budget_s: float | None = None
    spec: DrillSpec | None = None  # with DRILL_STARTED
    started_wall: str = ""  # the drill's clock origin, with DRILL_STARTED
    event: TimelineEvent | None = None
    record: PhaseRecord | None = None
    restore: RestoreRecord | None = None
    verdict: str = ""
    headline: str = ""
    measures: Measures | None = None
    gameday: GameDayState | None = None
    message: str = ""
    observed: Observation | None = None
    series: tuple[MetricSeries, ...] = ()
