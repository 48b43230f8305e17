"""``pfdrill fault``: the fault catalog by hand (game days), and scenario files.

``inject`` journals what it changes in a state file (under the state dir)
before changing it; ``rollback`` restores exactly that, from any later
process. Both refuse a context off the allow-list or a namespace without the
opt-in label, before any change. ``--dry-run`` prints the planned changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from pfdrill.cli.output import JsonOpt, emit
from pfdrill.errors import InvalidInput

app = typer.Typer(help="Inject, prove and roll back faults; run and check chaostoolkit scenarios.",
                  no_args_is_help=True)

NameOpt = typer.Option("", "--name", help="kwok cluster name (default: pfdrill).")
KubeconfigOpt = typer.Option(None, "--kubeconfig", help="kubeconfig (default: the kwok cluster's).")
ContextOpt = typer.Option(None, "--context", help="Context (must be allow-listed).")
ConfigOpt = typer.Option(None, "--config", help="pfdrill config file (allow-list, namespace).")
NamespaceOpt = typer.Option(None, "--namespace", help="Fabric namespace (default: the config's).")
WatcherOpt = typer.Option(None, "--watcher-url", help="sidecar-watcher URL (default: kwok Service proxy).")
PrometheusOpt = typer.Option(None, "--prometheus-url", help="Prometheus for metrics (no kwok runtime).")
KeyOpt = typer.Option(None, "--key", help="State key of the fault (default: cli-<fault>).")


def _configuration(name: str, kubeconfig: Path | None, context: str | None, config: Path | None,
                   namespace: str | None, watcher: str | None, prometheus: str | None) -> dict[str, str]:
    values = {"pfdrill_cluster": name, "pfdrill_kubeconfig": str(kubeconfig or ""),
              "pfdrill_context": context or "", "pfdrill_config": str(config or ""),
              "pfdrill_namespace": namespace or "", "pfdrill_watcher_url": watcher or "",
              "pfdrill_prometheus_url": prometheus or ""}
    return {k: v for k, v in values.items() if v}


def _key(fault: str, key: str | None) -> str:
    from pfdrill.faults.kind import FaultKind

    return key or f"cli-{FaultKind.parse(fault).value}"


@app.command("list")
def list_faults(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every fault of the catalog with its parameters."""
    from pfdrill.faults.fault import describe_params
    from pfdrill.faults.kind import FaultKind
    from pfdrill.faults.registry import DRIVERS

    if as_json:
        out = [{"name": k.value, "summary": DRIVERS[k].summary, "params": describe_params(k)}
               for k in FaultKind]
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    for kind in FaultKind:
        typer.echo(f"{kind.value}: {DRIVERS[kind].summary}")
        for line in describe_params(kind):
            typer.echo(f"    {line}")


@app.command("inject")
def inject(
    fault: str = typer.Argument(..., help="Fault name (pfdrill fault list)."),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE, repeatable."),
    key: str | None = KeyOpt,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would change; change nothing."),
    name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt, context: str | None = ContextOpt,
    config: Path | None = ConfigOpt, namespace: str | None = NamespaceOpt,
    watcher_url: str | None = WatcherOpt, prometheus_url: str | None = PrometheusOpt,
    wait: float = typer.Option(0.0, "--wait", help="Seconds to wait for a drill holding the "
                               "lease (default: refuse at once, exit 3)."),
    as_json: bool = JsonOpt,
) -> None:
    """Inject a fault (its state file makes ``rollback`` work from any later process).

    Takes the drill Lease first (a running drill refuses it, naming its holder) and
    keeps it until ``pfdrill fault rollback`` of this key, so no drill starts over it.
    """
    from pfdrill.chaos import target
    from pfdrill.faults.fault import InjectableFault, check_params
    from pfdrill.faults.kind import FaultKind
    from pfdrill.faults.params import parse_assignments

    params = parse_assignments(param)
    check_params(fault, params)  # bad input fails before the cluster is even contacted
    ctx = target.context(_configuration(name, kubeconfig, context, config, namespace, watcher_url,
                                        prometheus_url))
    f = InjectableFault(FaultKind.parse(fault), ctx, key=_key(fault, key))
    where = {"fault": f.name, "key": f.key, "context": ctx.context, "namespace": ctx.namespace}
    if dry_run:
        planned = [c.describe() for c in f.plan(params)]
        emit(as_json, {**where, "dry_run": True, "changes": planned},
             "\n".join([f"dry run: {f.name} on {ctx.context}/{ctx.namespace} would change:",
                        *(f"  {c}" for c in planned or ["nothing"])]))
        return
    from pfdrill.cluster import lease
    from pfdrill.drill import claim
    from pfdrill.drill.snapshot import SnapshotStore

    holder = claim.hold_for_fault(
        ctx.cluster, ctx.config, f.key, wait_s=wait,
        store=SnapshotStore(ctx.paths.state / "snapshots"),
        keepers=claim.keepers_for(name or target.DEFAULT_CLUSTER, ctx.config, ctx.paths,
                                  client=ctx.cluster),
        progress=lambda m: typer.echo(m, err=True))
    try:
        f.inject(params)
    except BaseException:
        lease.release(ctx.cluster, ctx.namespace, holder)
        raise
    state = f.state()
    assert state is not None
    changes = [c.describe() for c in state.changes]
    emit(as_json, {**where, "dry_run": False, "changes": changes},
         "\n".join([f"injected {f.name} (key {f.key}) on {ctx.context}/{ctx.namespace}:",
                    *(f"  {c}" for c in changes),
                    f"roll back with: pfdrill fault rollback --key {f.key}"]))


@app.command("prove")
def prove(fault: str = typer.Argument(None, help="Fault name."), key: str | None = KeyOpt,
          name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt,
          context: str | None = ContextOpt, config: Path | None = ConfigOpt,
          namespace: str | None = NamespaceOpt, watcher_url: str | None = WatcherOpt,
          prometheus_url: str | None = PrometheusOpt, as_json: bool = JsonOpt) -> None:
    """Look once whether an injected fault is observed in effect (exit 1 if not)."""
    from pfdrill.chaos.actions import fault_for

    f = fault_for(fault, key if key or not fault else _key(fault, None),
                  _configuration(name, kubeconfig, context, config, namespace, watcher_url,
                                 prometheus_url))
    obs = f.prove()
    emit(as_json, {"fault": f.name, "key": f.key, "proven": obs.proven, "detail": obs.detail},
         f"{f.name} (key {f.key}): {'in effect' if obs.proven else 'not observed'}: {obs.detail}")
    if not obs.proven:
        raise typer.Exit(1)


@app.command("rollback")
def rollback(
    fault: str = typer.Argument(None, help="Fault name (or give --key, or --all)."),
    key: str | None = KeyOpt,
    all_faults: bool = typer.Option(False, "--all", help="Every fault still injected in the namespace."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be restored."),
    name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt, context: str | None = ContextOpt,
    config: Path | None = ConfigOpt, namespace: str | None = NamespaceOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Restore exactly what an injection changed (idempotent)."""
    from pfdrill.chaos import target
    from pfdrill.cluster import lease
    from pfdrill.faults.fault import InjectableFault
    from pfdrill.faults.kind import FaultKind

    if not (fault or key or all_faults):
        raise InvalidInput("rollback: name a fault, or give --key or --all")
    ctx = target.context(_configuration(name, kubeconfig, context, config, namespace, None, None))
    ctx.check_safe()
    if all_faults:
        states = ctx.store.active(ctx.context, ctx.namespace)
    else:
        k = key or _key(str(fault), None)
        found = ctx.store.load(ctx.context, ctx.namespace, k)
        if found is None or not found.active:
            # An injection killed after it took the lease and before it recorded anything
            # changed nothing (the key's record, if any, is an earlier one, rolled back),
            # but its lease would hold the namespace for FAULT_LEASE_S: the refusal names
            # this command, which lets it go.
            holder = lease.fault_holder(k)
            if ctx.cluster.lease_holder(ctx.namespace, lease.LEASE_NAME) == holder:
                if not dry_run:
                    lease.release(ctx.cluster, ctx.namespace, holder)
                note = (f"nothing of key {k!r} is injected: its injection stopped before any "
                        f"change; {'would release' if dry_run else 'released'} the lease it "
                        f"held ({holder})")
                emit(as_json, [{"key": k, "dry_run": dry_run, "released_lease": holder}], note)
                return
        if found is None:
            raise InvalidInput(f"no fault with key {k!r} was injected in {ctx.context}/{ctx.namespace}")
        states = [found]
    done: list[dict[str, Any]] = []
    lines = [] if states else ["no fault is injected"]
    for state in states:
        f = InjectableFault(FaultKind.parse(state.fault), ctx, key=state.key)
        if dry_run:
            undone = [c.describe() for c in reversed(state.changes if state.active else ())]
            done.append({"fault": state.fault, "key": state.key, "dry_run": True, "restores": undone})
            lines += [f"dry run: {state.fault} (key {state.key}, {state.phase.value}) would restore:",
                      *(f"  {c} (undone)" for c in undone)]
            continue
        actions = f.rollback_actions()
        lease.release(ctx.cluster, ctx.namespace, lease.fault_holder(state.key))
        done.append({"fault": state.fault, "key": state.key, "dry_run": False, "restored": actions})
        lines.append(f"rolled back {state.fault} (key {state.key}): "
                     f"{'; '.join(actions) or 'nothing to restore'}")
    emit(as_json, done, "\n".join(lines))


@app.command("status")
def status(name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt,
           context: str | None = ContextOpt, config: Path | None = ConfigOpt,
           namespace: str | None = NamespaceOpt, as_json: bool = JsonOpt) -> None:
    """Faults recorded in the state dir for this cluster, injected or rolled back."""
    from pfdrill.chaos import target

    ctx = target.context(_configuration(name, kubeconfig, context, config, namespace, None, None))
    states = ctx.store.all(ctx.context, ctx.namespace)
    emit(as_json, [{"key": s.key, "fault": s.fault, "phase": s.phase.value,
                    "injected": s.injected_wall, "params": dict(s.params)} for s in states],
         "\n".join(f"{s.key}: {s.fault} {s.phase.value} since {s.injected_wall} "
                   f"({', '.join(f'{k}={v}' for k, v in sorted(s.params.items())) or 'no params'})"
                   for s in states) or "no fault recorded")


@app.command("run")
def run(scenario: Path = typer.Argument(..., help="Experiment file (JSON or YAML)."),
        var: list[str] = typer.Option([], "--var", help="configuration KEY=VALUE, repeatable."),
        journal: Path = typer.Option(Path("journal.json"), "--journal", help="Where the journal goes."),
        as_json: bool = JsonOpt) -> None:
    """Run a scenario through chaostoolkit-lib (like ``chaos run``), keeping the journal."""
    from pfdrill.chaos import runner
    from pfdrill.faults.params import parse_assignments

    result: dict[str, Any] = runner.run_file(scenario, variables=parse_assignments(var, "--var"),
                                             journal_path=journal)
    deviated = " (deviated)" if result.get("deviated") else ""
    emit(as_json, {"scenario": str(scenario), "status": result.get("status"),
                   "deviated": bool(result.get("deviated")), "journal": str(journal)},
         f"{scenario}: {result.get('status')}{deviated}; journal {journal}")
    if not runner.succeeded(result):
        raise typer.Exit(1)


@app.command("validate")
def validate(scenarios: list[Path] = typer.Argument(..., help="Experiment files."),
             as_json: bool = JsonOpt) -> None:
    """Check scenario files against chaostoolkit's and pfdrill's rules; change nothing."""
    from pfdrill.chaos import runner, scenario

    for path in scenarios:
        experiment, where = scenario.load(path)
        runner.validate(experiment, path, where)
    emit(as_json, {"valid": [str(p) for p in scenarios]},
         "\n".join(f"{p}: ok" for p in scenarios))
