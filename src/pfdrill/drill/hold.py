"""What a drill holds on the cluster and restore must give back: lease, snapshot, live fault.

The only mutable state of a drill besides its recorder, and safety-critical:
restore reads it to know what to undo, so it is written through these methods
only, each of which states one fact ("the lease is ours", "the fault is armed").
A fault is armed *before* its inject action runs, so a half-done injection is
still rolled back.
"""

from __future__ import annotations

from pfdrill.drill.ports import Clock, Fault
from pfdrill.drill.snapshot import Snapshot

# When the last fault in each cluster context was rolled back (monotonic clock): the next
# drill's baseline must not be measured over its aftermath, whichever drill rolled it back.
_LAST_ROLLBACK: dict[str, float] = {}


def last_rollback(context: str) -> float | None:
    return _LAST_ROLLBACK.get(context)


def signals_disturbed(context: str, monotonic: float) -> None:
    """The live signals' windows hold no steady state before ``monotonic`` (baseline traffic
    just started, say): the next baseline waits a window, as after a fault's rollback."""
    _LAST_ROLLBACK[context] = max(monotonic, _LAST_ROLLBACK.get(context, monotonic))


class Hold:
    def __init__(self, context: str, clock: Clock) -> None:
        self._context = context
        self._clock = clock
        self._lease = False
        self._snapshot: Snapshot | None = None
        self._fault: Fault | None = None
        self._armed = False

    @property
    def lease_held(self) -> bool:
        return self._lease

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def fault(self) -> Fault | None:
        """The drill's fault driver (kept after rollback: its journal is evidence)."""
        return self._fault

    @property
    def fault_active(self) -> bool:
        return self._armed

    def lease_taken(self) -> None:
        self._lease = True

    def lease_released(self) -> None:
        self._lease = False

    def snapshot_taken(self, snap: Snapshot) -> None:
        self._snapshot = snap

    def snapshot_restored(self) -> None:
        self._snapshot = None

    def arm(self, fault: Fault) -> None:
        self._fault = fault
        self._armed = True

    def rollback(self) -> bool:
        """Undo the fault if it is in effect; whether there was anything to undo."""
        if self._fault is None or not self._armed:
            return False
        self._fault.rollback()
        self._armed = False
        _LAST_ROLLBACK[self._context] = self._clock.monotonic()
        return True
