"""chaostoolkit actions: inject and roll back any fault of the catalog.

Use them from any experiment as Python activities::

    {"type": "action", "name": "break the adapter",
     "provider": {"type": "python", "module": "pfdrill.chaos.actions", "func": "inject_fault",
                  "arguments": {"fault": "adapter_failure",
                                "params": {"variant": "scaled_to_zero", "failure_mode": "fail_open"},
                                "key": "my-experiment"}}}

and in ``rollbacks`` ``rollback_fault`` with the same ``key``. The key names
the fault's state file (under the pfdrill state dir), so the rollback works
from the same ``chaos run`` or from any later process. Where the cluster is
comes from the experiment's ``configuration`` (see :mod:`pfdrill.chaos.target`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pfdrill.chaos import target
from pfdrill.cluster import lease
from pfdrill.errors import InvalidInput
from pfdrill.faults.fault import InjectableFault
from pfdrill.faults.kind import FaultKind

logger = logging.getLogger("chaostoolkit")

Configuration = Mapping[str, Any] | None


def default_key(fault: str) -> str:
    return f"chaos-{FaultKind.parse(fault).value}"


def fault_for(fault: str | None, key: str | None, configuration: Configuration) -> InjectableFault:
    ctx = target.context(configuration)
    if fault:
        return InjectableFault(FaultKind.parse(fault), ctx, key=key or default_key(fault))
    if not key:
        raise InvalidInput("rollback_fault needs the fault's name or its key")
    state = ctx.store.load(ctx.context, ctx.namespace, key)
    if state is None:
        raise InvalidInput(f"no fault state with key {key!r} in {ctx.context}/{ctx.namespace}")
    return InjectableFault(FaultKind.parse(state.fault), ctx, key=key)


def inject_fault(fault: str, params: Mapping[str, Any] | None = None, key: str | None = None,
                 dry_run: bool = False, configuration: Configuration = None) -> dict[str, Any]:
    """Inject ``fault`` with ``params``; returns what changed (or, dry, what would change).

    A fault left active under the same key by an earlier, killed run is rolled
    back first; a fault active under another key makes this refuse.
    """
    f = fault_for(fault, key, configuration)
    if dry_run:
        return {"fault": f.name, "key": f.key, "planned": [c.describe() for c in f.plan(params or {})]}
    holder = _claim(f, configuration)
    try:
        stale = f.state()
        if stale is not None and stale.active:
            logger.warning(f"pfdrill: fault {f.name} (key {f.key}) left injected by an earlier "
                           f"run since {stale.injected_wall}; rolling it back first")
            f.rollback()
        f.inject(params or {})
    except BaseException:
        if holder:
            lease.release(f.ctx.cluster, f.ctx.namespace, holder)
        raise
    state = f.state()
    assert state is not None
    return {"fault": f.name, "key": f.key, "params": dict(state.params),
            "changes": [c.describe() for c in state.changes], "measured": dict(state.measured)}


def rollback_fault(fault: str | None = None, key: str | None = None,
                   configuration: Configuration = None) -> dict[str, Any]:
    """Undo what the fault under ``key`` changed; safe to repeat and before any inject."""
    try:
        f = fault_for(fault, key, configuration)
    except InvalidInput as exc:
        if fault is None and key:
            return {"key": key, "actions": [], "note": str(exc)}
        raise
    actions = f.rollback_actions()
    if not target.pinned(configuration):
        lease.release(f.ctx.cluster, f.ctx.namespace, lease.fault_holder(f.key))
    return {"fault": f.name, "key": f.key, "actions": actions or ["nothing to restore"]}


def _claim(f: InjectableFault, configuration: Configuration) -> str | None:
    """Outside a drill (a plain ``chaos run``), take the drill Lease for this fault's key
    before any change, as ``pfdrill fault inject`` does; a drill's own runs hold it already."""
    if target.pinned(configuration):
        return None
    f.ctx.check_safe()
    holder = lease.fault_holder(f.key)
    lease.take(f.ctx.cluster, f.ctx.namespace, holder, lease.FAULT_LEASE_S)
    return holder
