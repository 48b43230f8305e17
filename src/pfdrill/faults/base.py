"""What every fault module provides, and the one place changes are made and undone.

A fault module implements :class:`Driver`: ``validate`` (pure parameter
checks), ``inject`` (reads the cluster, then asks the :class:`Recorder` for
each change) and ``prove`` (observes the fault itself). Drivers never write to
the cluster directly: the recorder journals every change *before* making it,
so rollback — generic, :func:`undo` in reverse order — restores exactly what
was touched, from any process, even after an injection killed half-way.
In a dry run the same recorder only collects the planned changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pfdrill.errors import (
    EnvironmentProblem,
    ObjectNotFound,
    PermanentFaultError,
    TransientFaultError,
)
from pfdrill.faults import worker as workers
from pfdrill.faults.change import Change, ChangeKind, Worker, b64, unb64
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.params import ParamSpec
from pfdrill.faults.state import FaultState, StateStore
from pfdrill.model.drill import ParamValue
from pfdrill.model.fault import FaultObservation

Params = Mapping[str, ParamValue]


# One record for "is the fault in effect", shared with the drill engine.
Observation = FaultObservation


class Driver(Protocol):
    @property
    def kind(self) -> FaultKind: ...

    @property
    def summary(self) -> str:
        """One line for ``pfdrill fault list``."""
        ...

    @property
    def spec(self) -> ParamSpec: ...

    @property
    def terms(self) -> tuple[str, ...]:
        """Words a correct root-cause statement mentions (any one suffices)."""
        ...

    def validate(self, params: Params) -> dict[str, ParamValue]:
        """Checked parameters with defaults; InvalidInput for anything wrong. Reads nothing."""
        ...

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None: ...

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation: ...


class Recorder:
    """Makes a fault's changes, journalling each one first (or only plans them)."""

    def __init__(self, ctx: FaultContext, state: FaultState, *, dry_run: bool = False,
                 store: StateStore | None = None) -> None:
        self.ctx = ctx
        self.state = state
        self.dry_run = dry_run
        self._store = store
        self.planned: list[Change] = []

    def _journal(self, change: Change) -> None:
        self.planned.append(change)
        self.state = self.state.with_change(change)
        if self._store is not None and not self.dry_run:
            self._store.save(self.state)

    def measure(self, name: str, value: float) -> None:
        self.state = dataclasses.replace(self.state, measured={**self.state.measured, name: value})
        if self._store is not None and not self.dry_run:
            self._store.save(self.state)

    def set_configmap(self, name: str, values: Mapping[str, str | None]) -> None:
        ns = self.ctx.namespace
        current = self.ctx.cluster.get_configmap(ns, name)
        before = {k: current.get(k) for k in values}
        if before == dict(values):
            return  # already so: nothing to change, nothing to undo
        self._journal(Change(ChangeKind.CONFIGMAP, name, before, dict(values)))
        if not self.dry_run:
            self.ctx.cluster.patch_configmap(ns, name, dict(values))

    def set_secret(self, name: str, values: Mapping[str, bytes | None]) -> None:
        ns = self.ctx.namespace
        current = self.ctx.cluster.get_secret(ns, name)
        before = {k: b64(current.get(k)) for k in values}
        after = {k: b64(v) for k, v in values.items()}
        if before == after:
            return
        self._journal(Change(ChangeKind.SECRET, name, before, after))
        if not self.dry_run:
            self.ctx.cluster.replace_secret(ns, name, _merged(current, values))

    def scale(self, deployment: str, replicas: int) -> None:
        ns = self.ctx.namespace
        before = self.ctx.cluster.get_deployment(ns, deployment).replicas
        if before == replicas:
            return
        self._journal(Change(ChangeKind.REPLICAS, deployment, {"replicas": str(before)},
                             {"replicas": str(replicas)}))
        if not self.dry_run:
            self.ctx.cluster.scale_deployment(ns, deployment, replicas)

    def delete_pods(self, owner: str, names: list[str]) -> None:
        self._journal(Change(ChangeKind.PODS_DELETED, owner, pods=tuple(names)))
        if not self.dry_run:
            for name in names:
                try:
                    self.ctx.cluster.delete_pod(self.ctx.namespace, name, grace_seconds=0)
                except ObjectNotFound:
                    continue

    def start_worker(self, role: str, spec: dict[str, Any], description: str) -> None:
        token = workers.new_token(role)
        directory = self.ctx.work_dir(token)
        pending = Worker(role=role, token=token, directory=str(directory), description=description)
        self._journal(Change(ChangeKind.WORKER, role, worker=pending))
        if self.dry_run:
            return
        started = workers.spawn(role, token, directory, spec, description)
        self.state = self.state.replace_last(Change(ChangeKind.WORKER, role, worker=started))
        if self._store is not None:
            self._store.save(self.state)


def _merged(current: Mapping[str, bytes], values: Mapping[str, bytes | None]) -> dict[str, bytes]:
    out = dict(current)
    for k, v in values.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


# --- undo: one function per change kind -------------------------------------------------

def _undo_configmap(ctx: FaultContext, c: Change) -> str | None:
    ns = ctx.namespace
    try:
        current = ctx.cluster.get_configmap(ns, c.target)
    except ObjectNotFound:
        return f"ConfigMap {c.target} is gone; nothing restored"
    if all(current.get(k) == v for k, v in c.before.items()):
        return None
    ctx.cluster.patch_configmap(ns, c.target, dict(c.before))
    return f"ConfigMap {c.target}: {', '.join(sorted(c.before))} restored"


def _undo_secret(ctx: FaultContext, c: Change) -> str | None:
    ns = ctx.namespace
    try:
        current = ctx.cluster.get_secret(ns, c.target)
    except ObjectNotFound:
        return f"Secret {c.target} is gone; nothing restored"
    want = {k: unb64(v) for k, v in c.before.items()}
    if all(current.get(k) == v for k, v in want.items()):
        return None
    ctx.cluster.replace_secret(ns, c.target, _merged(current, want))
    return f"Secret {c.target}: {', '.join(sorted(c.before))} restored"


def _undo_replicas(ctx: FaultContext, c: Change) -> str | None:
    want = int(c.before.get("replicas") or 0)
    try:
        now = ctx.cluster.get_deployment(ctx.namespace, c.target).replicas
    except ObjectNotFound:
        return f"Deployment {c.target} is gone; nothing restored"
    if now == want:
        return None
    ctx.cluster.scale_deployment(ctx.namespace, c.target, want)
    return f"Deployment {c.target} scaled back to {want}"


def _undo_pods(ctx: FaultContext, c: Change) -> str | None:
    # Deleted pods cannot come back; their Deployment has replaced them already.
    return None


def _undo_worker(ctx: FaultContext, c: Change) -> str | None:
    if c.worker is None:
        return None
    if workers.stop(c.worker):
        return f"stopped {c.worker.description or c.worker.role}"
    return None


UNDO: dict[ChangeKind, Callable[[FaultContext, Change], str | None]] = {
    ChangeKind.CONFIGMAP: _undo_configmap,
    ChangeKind.SECRET: _undo_secret,
    ChangeKind.REPLICAS: _undo_replicas,
    ChangeKind.PODS_DELETED: _undo_pods,
    ChangeKind.WORKER: _undo_worker,
}


def undo(ctx: FaultContext, changes: tuple[Change, ...]) -> list[str]:
    """Undo ``changes`` newest first; what was done (empty when nothing differed).

    Every change is attempted even if one fails; the first failure is raised
    at the end, naming all that failed.
    """
    done: list[str] = []
    failed: list[str] = []
    first: Exception | None = None
    transient = True
    for change in reversed(changes):
        try:
            what = UNDO[change.kind](ctx, change)
        except Exception as exc:  # keep going: the remaining changes must still be undone
            failed.append(f"{change.describe()}: {exc}")
            first = first or exc
            transient = transient and isinstance(exc, EnvironmentProblem)
            continue
        if what:
            done.append(what)
    if failed:
        # An unreachable API server is worth retrying; anything else is not.
        kind = TransientFaultError if transient else PermanentFaultError
        raise kind("rollback incomplete (run it again): " + "; ".join(failed)) from first
    return done
