"""SIGINT/SIGTERM during a drill: interrupt the phase, never the restore.

While a drill runs, both signals raise :class:`DrillInterrupted` in the main
thread so the engine's ``finally`` restores the cluster. While restoring,
they are only remembered, and re-raised once the restore is done: a second
Ctrl-C must not leave the fabric half restored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class DrillInterrupted(KeyboardInterrupt):
    """A drill was stopped by a signal. A ``KeyboardInterrupt`` so ``except Exception`` lets it by."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signame = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.signame}")


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM raise :class:`DrillInterrupted`."""
    if not _main_thread():  # signal handlers can only be installed from the main thread
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise DrillInterrupted(signum)

    old = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class Deferred:
    """Signals received while deferred; :meth:`reraise` raises the first after the block."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def reraise(self) -> None:
        if self.received:
            raise DrillInterrupted(self.received[0])


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[Deferred]:
    """Within the block, SIGINT/SIGTERM are recorded, not acted on."""
    deferred = Deferred()
    if not _main_thread():
        yield deferred
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        deferred.received.append(signum)

    old = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield deferred
    finally:
        for s, h in old.items():
            signal.signal(s, h)
