"""Faults a run left injected: a state keeper, so restoring a snapshot rolls them back too.

A drill's fault is rolled back by the drill (recovery, or restore); a SIGKILLed
drill leaves its fault's state file saying ``injected`` — and, for a fault with
a background worker, the worker generating traffic or deleting pods. The
snapshot a drill (or any claim on the namespace) takes records which faults
were injected before it (:meth:`LeftFaults.save`, normally none); putting the
snapshot back — by the drill's restore, or by the next run restoring a killed
run's snapshot first — rolls back every fault injected since
(:meth:`LeftFaults.restore`), which also stops its workers. It is the snapshot
plan's counterpart for what is not a cluster object.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pfdrill.faults.context import FaultContext
from pfdrill.faults.fault import InjectableFault
from pfdrill.faults.kind import FaultKind


class LeftFaults:
    """A :class:`~pfdrill.drill.ports.StateKeeper` over the fault state files of one namespace."""

    name = "faults"

    def __init__(self, ctx: FaultContext) -> None:
        self._ctx = ctx

    def _active(self) -> list[str]:
        return sorted(s.key for s in self._ctx.store.active(self._ctx.context,
                                                               self._ctx.namespace))

    def save(self) -> str:
        return json.dumps(self._active())

    def restore(self, saved: str) -> Sequence[str]:
        """Roll back every fault injected after ``saved`` was taken; what was done."""
        before = set(json.loads(saved))
        done: list[str] = []
        for state in self._ctx.store.active(self._ctx.context, self._ctx.namespace):
            if state.key in before:
                continue
            fault = InjectableFault(FaultKind.parse(state.fault), self._ctx, key=state.key)
            actions = fault.rollback_actions()
            done.append(f"fault {state.fault} (key {state.key}) rolled back"
                        + (f": {'; '.join(actions)}" if actions else ""))
        return done
