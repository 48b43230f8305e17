"""Write a running drill down, and carry it on in another process.

:func:`capture` turns the recorder and the hold into a
:class:`~pfdrill.model.checkpoint.Checkpoint` (the game day keeps it on disk,
:mod:`pfdrill.gameday.store`); :func:`recorder` rebuilds the recorder in a successor process with
the same clock origin: the monotonic one while the machine has not rebooted
(``CLOCK_MONOTONIC`` is system-wide on Linux), the wall clock otherwise. The
cluster side of a takeover — lease, snapshot, fault — is
:func:`pfdrill.drill.safety.take_over`, run by the sequencer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from pfdrill.drill.context import DrillContext
from pfdrill.drill.ports import Clock
from pfdrill.drill.recorder import DrillRecorder
from pfdrill.model.checkpoint import Checkpoint, FoundRecord
from pfdrill.model.timeline import TimelineEvent

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    """This boot's identity: a monotonic time from another boot means nothing here."""
    try:
        return _BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def capture(c: DrillContext) -> Checkpoint:
    rec, hold = c.rec, c.hold
    return Checkpoint(
        run_id=c.run_id, drill=c.spec.name, incident_id=c.incident_id, holder=c.holder,
        header=rec.header, t0_wall=rec.t0_wall.isoformat(), t0_monotonic=rec.t0,
        boot_id=boot_id(), timeline=rec.timeline, phases=rec.phases,
        found=tuple(FoundRecord.of(f) for f in rec.found), lease_held=hold.lease_held,
        snapshot_held=hold.snapshot is not None, fault_armed=hold.fault_active,
        written_wall=rec.clock.now().isoformat())


def recorder(clock: Clock, cp: Checkpoint,
             listener: Callable[[TimelineEvent], None]) -> DrillRecorder:
    """The recorder a successor carries on with: same origin, same records."""
    started = dt.datetime.fromisoformat(cp.t0_wall)
    if cp.boot_id and cp.boot_id == boot_id():
        t0 = cp.t0_monotonic
    else:  # rebooted (or unknown): the wall clock is the only common reference left
        t0 = clock.monotonic() - (clock.now() - started).total_seconds()
    return DrillRecorder.resumed(clock, cp.header, started, t0=t0, timeline=cp.timeline,
                                 phases=cp.phases, found=tuple(f.record() for f in cp.found),
                                 listener=listener)
