"""The dashboard's feed: every live event it has seen, numbered, and who wants the new ones.

Publishers (the journal tail, the pollers, the curves, a game day in the same
process) call :meth:`Feed.publish` from any thread; each browser connection
replays :meth:`Feed.since` its last number and then gets new events through
its subscription. Metric series replace each other (only the newest per drill
is kept), everything else is kept up to ``limit`` events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pfdrill.model.gameday import GameDayState
from pfdrill.model.live import LiveEvent, LiveKind

Subscriber = Callable[[int, LiveEvent], None]


class Feed:
    def __init__(self, limit: int = 20000) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._events: list[tuple[int, LiveEvent]] = []
        self._seq = 0
        self._subscribers: list[Subscriber] = []
        self.gameday: GameDayState | None = None  # the latest game-day state seen

    def publish(self, event: LiveEvent) -> int:
        with self._lock:
            self._seq += 1
            seq = self._seq
            if event.kind is LiveKind.SERIES:
                self._events = [(n, e) for n, e in self._events if not (
                    e.kind is LiveKind.SERIES and (e.run_id, e.drill) == (event.run_id,
                                                                         event.drill))]
            if event.kind is LiveKind.GAMEDAY and event.gameday is not None:
                self.gameday = event.gameday
            self._events.append((seq, event))
            if len(self._events) > self._limit:
                del self._events[: len(self._events) - self._limit]
            subscribers = list(self._subscribers)
        for s in subscribers:
            s(seq, event)
        return seq

    def since(self, seq: int) -> list[tuple[int, LiveEvent]]:
        with self._lock:
            return [(n, e) for n, e in self._events if n > seq]

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)
        return unsubscribe

    @property
    def last(self) -> int:
        with self._lock:
            return self._seq
