"""Metric curves around the injection, for the drill a live view shows now.

:class:`CurveWatch` follows the feed (which drill started, when its fault was
injected, when it finished) and every few seconds asks Prometheus for the
drill's metric queries from a minute before the injection to now, publishing
them as one SERIES event. Points are in the drill's seconds, as on its
timeline; it stops half a minute after the drill finished.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from pfdrill.dashboard.ticker import Ticker
from pfdrill.errors import PfdrillError
from pfdrill.model.drill import MetricQuery
from pfdrill.model.evidence import MetricSeries, SeriesPoint
from pfdrill.model.live import LiveEvent, LiveKind
from pfdrill.model.timeline import EventKind
from pfdrill.obs.api import PrometheusAPI

log = logging.getLogger(__name__)

LEAD_S = 60.0  # seconds shown before the injection
TAIL_S = 30.0  # seconds the curves keep coming after the drill finished
POINTS = 120


@dataclasses.dataclass
class _Drill:
    run_id: str
    name: str
    t0: float  # Unix seconds
    metrics: tuple[MetricQuery, ...]
    injected: float | None = None  # Unix seconds
    finished: float | None = None


class CurveWatch:
    def __init__(self, prometheus: PrometheusAPI, publish: Callable[[LiveEvent], object], *,
                 interval_s: float = 3.0, clock: Callable[[], float] = time.time) -> None:
        self._prom = prometheus
        self._publish = publish
        self._clock = clock
        self._lock = threading.Lock()
        self._current: _Drill | None = None
        self._ticker = Ticker(self.publish_sample, interval_s, "pfdrill-curves")

    def seen(self, seq: int, event: LiveEvent) -> None:
        """A feed subscriber: keeps track of the drill to chart."""
        with self._lock:
            if event.kind is LiveKind.DRILL_STARTED and event.spec is not None:
                if event.spec.metrics:
                    t0 = dt.datetime.fromisoformat(event.started_wall).timestamp()
                    self._current = _Drill(event.run_id, event.drill, t0, event.spec.metrics)
                return
            cur = self._current
            if cur is None or (event.run_id, event.drill) != (cur.run_id, cur.name):
                return
            if (event.kind is LiveKind.EVENT and event.event is not None
                    and event.event.kind is EventKind.INJECTED):
                cur.injected = cur.t0 + event.event.at
            elif event.kind is LiveKind.DRILL_FINISHED:
                cur.finished = event.wall

    def sample(self) -> LiveEvent | None:
        """The current drill's curves now (None: nothing to chart)."""
        with self._lock:
            cur = self._current
            if cur is None:
                return None
            cur = dataclasses.replace(cur)
        now = self._clock()
        if cur.finished is not None and now - cur.finished > TAIL_S:
            return None
        end = min(now, cur.finished + TAIL_S) if cur.finished is not None else now
        start = (cur.injected - LEAD_S) if cur.injected is not None else max(cur.t0, end - LEAD_S)
        step = max(1.0, (end - start) / POINTS)
        series = []
        for m in cur.metrics:
            try:
                found = self._prom.over(m.query, end - start, step, at=end)
            except PfdrillError as exc:
                log.info("curve %s: %s", m.name, exc)
                continue
            points = tuple(SeriesPoint(at=round(t - cur.t0, 3), value=v)
                           for s in found[:1] for t, v in s.points)
            series.append(MetricSeries(name=m.name, query=m.query, points=points))
        return LiveEvent(wall=now, run_id=cur.run_id, kind=LiveKind.SERIES, drill=cur.name,
                         series=tuple(series))

    def publish_sample(self) -> None:
        event = self.sample()
        if event is not None:
            self._publish(event)

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()
