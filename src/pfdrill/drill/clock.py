"""The real clock: ``time.monotonic`` for measuring, UTC wall time for the world outside."""

from __future__ import annotations

import datetime as dt
import time


class SystemClock:
    """:class:`~pfdrill.drill.ports.Clock` on the operating system's clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
