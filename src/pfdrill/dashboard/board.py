"""A dashboard: the feed, what fills it and the server, started and stopped together.

- the live journals (``<state>/live``), followed every ``tail_s`` — drills run by
  ``pfdrill drill run`` or a game day, in this process or another;
- the world around them (:mod:`.world`): alerts, notifications, the cluster. A game
  day watches the world itself (it keeps what it saw for its report) and journals
  it; a dashboard shows journaled observations except those its own pollers make;
- the metric curves of the drill on show (:mod:`.curves`).

Used by ``pfdrill dashboard`` and, with a controller, by ``pfdrill gameday run``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pfdrill.dashboard.curves import CurveWatch
from pfdrill.dashboard.feed import Feed
from pfdrill.dashboard.server import Controller, DashboardServer
from pfdrill.dashboard.ticker import Ticker
from pfdrill.dashboard.world import Poller, WorldWatch
from pfdrill.drill.live import JournalTail
from pfdrill.model.gameday import Role
from pfdrill.model.live import LiveEvent, LiveKind, Observation
from pfdrill.obs.api import PrometheusAPI


class Dashboard:
    def __init__(self, *, journals: Path | None, run_id: str | None = None,
                 pollers: Sequence[Poller] = (), prometheus: PrometheusAPI | None = None,
                 title: str = "pfdrill", tokens: Callable[[], Mapping[Role, str]] = dict,
                 controller: Controller | None = None, tail_s: float = 0.2,
                 poll_s: float = 1.0) -> None:
        self.feed = Feed()
        self.server = DashboardServer(self.feed, title=title, tokens=tokens,
                                      controller=controller)
        self._journals = (JournalTail(journals, run_id=run_id) if journals is not None
                          else None)
        self._own = frozenset(p.source for p in pollers)
        self.world = WorldWatch(pollers, self._observe, interval_s=poll_s)
        self.curves = CurveWatch(prometheus, self.feed.publish) if prometheus else None
        self._tail = Ticker(self.follow_once, tail_s, "pfdrill-journal")
        self._unsubscribe: Callable[[], None] | None = None

    def _observe(self, o: Observation) -> None:
        self.feed.publish(LiveEvent(wall=time.time(), run_id="", kind=LiveKind.OBSERVED,
                                    observed=o))

    def follow_once(self) -> None:
        """Publish what the journals gained since the last look."""
        if self._journals is not None:
            for event in self._journals.read():
                if event.observed is not None and event.observed.source in self._own:
                    continue  # this dashboard sees that source itself
                self.feed.publish(event)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self.curves is not None:
            self._unsubscribe = self.feed.subscribe(self.curves.seen)
            self.curves.start()
        self.follow_once()
        url = self.server.start(host, port)
        self._tail.start()
        self.world.start()
        return url

    def stop(self) -> None:
        self._tail.stop()
        self.follow_once()  # the last lines (a game day's end) still reach the browsers
        self.world.stop()
        if self.curves is not None:
            self.curves.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.server.stop()
