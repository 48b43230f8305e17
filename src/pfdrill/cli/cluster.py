"""``pfdrill cluster``: bring the drill cluster up, down, and report its status."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pfdrill.cli.output import JsonOpt, emit

app = typer.Typer(help="Create, remove and inspect the drill cluster.", no_args_is_help=True)

ProviderOpt = typer.Option("kwok", "--provider", "-p", help="kwok (embedded, default), kind, or existing.")
NameOpt = typer.Option("pfdrill", "--name", help="Cluster name (kwok/kind).")
KubeconfigOpt = typer.Option(None, "--kubeconfig", help="kubeconfig for --provider existing.")
ContextOpt = typer.Option(None, "--context", help="Context for --provider existing (must be allow-listed).")
ConfigOpt = typer.Option(None, "--config", help="pfdrill config file (allow-list). Default: $PFDRILL_CONFIG.")


def _stack(provider: str, name: str, kubeconfig: Path | None, context: str | None,
           config: Path | None, build_from: Path | None = None) -> object:
    from pfdrill.cluster.provider import ProviderKind
    from pfdrill.errors import InvalidInput
    from pfdrill.settings.config import load_config
    from pfdrill.stack.lifecycle import Stack

    kind = ProviderKind.parse(provider)
    if build_from is not None and kind is not ProviderKind.KIND:
        raise InvalidInput("--build-from builds the fabric image for kind: use it with --provider kind")
    return Stack(kind=kind, name=name, config=load_config(config),
                 kubeconfig=str(kubeconfig) if kubeconfig else None, context=context,
                 provider_options={"build_context": build_from} if build_from else {})


@app.command("up")
def up(provider: str = ProviderOpt, name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt,
       context: str | None = ContextOpt, config: Path | None = ConfigOpt,
       everything: bool = typer.Option(False, "--all", help="Also the sink, Prometheus, "
                                       "Alertmanager and the reference fabric."),
       profile: str = typer.Option("drill", "--profile", help="Timing profile for --all: "
                                   "drill or production."),
       build_from: Path | None = typer.Option(None, "--build-from", help="kind: docker build the "
                                              "fabric image from this pfdrill checkout first."),
       as_json: bool = JsonOpt) -> None:
    """Create the cluster (idempotent), start the process runtime (kwok), print the status."""
    from pfdrill.errors import InvalidInput
    from pfdrill.stack.lifecycle import Stack

    if profile not in ("drill", "production"):
        raise InvalidInput(f"unknown profile {profile!r}: expected drill or production")
    stack = _stack(provider, name, kubeconfig, context, config, build_from)
    assert isinstance(stack, Stack)
    echo = lambda m: typer.echo(m, err=True)  # noqa: E731
    info = stack.up_all(profile, progress=echo) if everything else stack.up(progress=echo)
    emit(as_json, info.to_dict(), lambda: _print(info.to_dict()))


@app.command("down")
def down(provider: str = ProviderOpt, name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt,
         context: str | None = ContextOpt, config: Path | None = ConfigOpt,
         as_json: bool = JsonOpt) -> None:
    """Remove the cluster and stop everything pfdrill started for it."""
    from pfdrill.stack.lifecycle import Stack

    stack = _stack(provider, name, kubeconfig, context, config)
    assert isinstance(stack, Stack)
    stack.down(progress=lambda m: typer.echo(m, err=True))
    emit(as_json, {"name": name, "provider": provider, "down": True}, f"cluster {name!r} is down")


@app.command("status")
def status(provider: str = ProviderOpt, name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt,
           context: str | None = ContextOpt, config: Path | None = ConfigOpt,
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show whether the cluster runs, its API server, nodes and components."""
    from pfdrill.stack.lifecycle import Stack

    stack = _stack(provider, name, kubeconfig, context, config)
    assert isinstance(stack, Stack)
    info = stack.status()
    if as_json:
        typer.echo(json.dumps(info.to_dict(), indent=2))
    else:
        _print(info.to_dict())
    if not (info.cluster and info.cluster.running):
        raise typer.Exit(1)


def _print(info: dict[str, object]) -> None:
    cluster = info.get("cluster") or {}
    assert isinstance(cluster, dict)
    typer.echo(f"cluster:    {info['name']} ({info['provider']})")
    typer.echo(f"running:    {'yes' if cluster.get('running') else 'no'}"
               + (f" — {cluster.get('detail')}" if cluster.get("detail") else ""))
    typer.echo(f"server:     {cluster.get('server', '')}")
    typer.echo(f"context:    {info['context']}")
    typer.echo(f"kubeconfig: {info['kubeconfig']}")
    nodes = cluster.get("nodes") or []
    assert isinstance(nodes, list)
    typer.echo(f"nodes:      {', '.join(nodes) or '-'}")
    comps = cluster.get("components") or []
    assert isinstance(comps, list)
    if comps:
        typer.echo(f"components: {', '.join(comps)}")
    if info.get("runtime_dir"):
        typer.echo(f"runtime:    {info['runtime_dir']}")
