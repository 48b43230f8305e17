"""cli: ``pfdrill restore`` — put back by hand what a killed run left.

The next ``pfdrill`` invocation against the namespace does this first anyway;
this command does it without starting anything else (after a SIGKILLed drill,
before handing the cluster back).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import typer

from pfdrill.cli.fault import (
    ConfigOpt,
    ContextOpt,
    KubeconfigOpt,
    NameOpt,
    NamespaceOpt,
    _configuration,
)
from pfdrill.cli.output import JsonOpt, emit


def restore(name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt,
            context: str | None = ContextOpt, config: Path | None = ConfigOpt,
            namespace: str | None = NamespaceOpt, as_json: bool = JsonOpt) -> None:
    """Restore what a killed run left (its processes, lease, snapshot and faults); exit 3
    if a live run holds the namespace. Nothing left: says so and changes nothing."""
    from pfdrill.chaos import target
    from pfdrill.drill import claim
    from pfdrill.drill.snapshot import SnapshotStore

    ctx = target.context(_configuration(name, kubeconfig, context, config, namespace, None, None))
    done = claim.restore_killed(
        ctx.cluster, ctx.config, SnapshotStore(ctx.paths.state / "snapshots"),
        claim.keepers_for(name or target.DEFAULT_CLUSTER, ctx.config, ctx.paths,
                          client=ctx.cluster),
        run_id=f"restore-{uuid.uuid4().hex[:8]}", progress=lambda m: typer.echo(m, err=True))
    where = f"{ctx.context}/{ctx.namespace}"
    emit(as_json, {"context": ctx.context, "namespace": ctx.namespace, "actions": list(done)},
         "\n".join([f"restored what a killed run left on {where}:", *(f"  {a}" for a in done)])
         if done else f"nothing to restore on {where}: no killed run left anything")
