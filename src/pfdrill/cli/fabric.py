"""``pfdrill fabric``: deploy, inspect and remove the reference Provability Fabric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pfdrill.cluster.client import ClusterClient
    from pfdrill.settings.config import Config

app = typer.Typer(help="Deploy, inspect and remove the reference Provability Fabric.",
                  no_args_is_help=True)

ProviderOpt = typer.Option("kwok", "--provider", "-p", help="kwok (embedded, default), kind, or existing.")
NameOpt = typer.Option("pfdrill", "--name", help="Cluster name (kwok/kind).")
KubeconfigOpt = typer.Option(None, "--kubeconfig", help="kubeconfig (default: the provider's).")
ContextOpt = typer.Option(None, "--context", help="Context (must be allow-listed).")
ConfigOpt = typer.Option(None, "--config", help="pfdrill config file (allow-list). Default: $PFDRILL_CONFIG.")
ManifestsOpt = typer.Option(None, "--manifests", help="A kustomization directory (default: the "
                            "shipped overlay deploy/overlays/<provider>).")
JsonOpt = typer.Option(False, "--json", help="Print JSON.")


def _client(provider: str, name: str, kubeconfig: Path | None, context: str | None,
            config: Path | None) -> tuple[ClusterClient, Config]:
    """A KubeClient for the chosen cluster, and the pfdrill config."""
    from pfdrill.cluster.client import KubeClient
    from pfdrill.cluster.provider import ProviderKind
    from pfdrill.settings.config import load_config
    from pfdrill.stack.lifecycle import Stack

    cfg = load_config(config)
    if kubeconfig is not None:
        return KubeClient(kubeconfig, context), cfg
    stack = Stack(kind=ProviderKind.parse(provider), name=name, config=cfg, context=context)
    info = stack.info()
    return KubeClient(info.kubeconfig, context or info.context), cfg


@app.command("deploy")
def deploy(provider: str = ProviderOpt, name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt,
           context: str | None = ContextOpt, config: Path | None = ConfigOpt,
           manifests: Path | None = ManifestsOpt,
           timeout: float = typer.Option(180.0, "--timeout", help="Seconds to wait for readiness."),
           as_json: bool = JsonOpt) -> None:
    """Apply the provider's overlay plus this cluster's trust bundle; wait until ready."""
    from pfdrill.cluster.provider import ProviderKind
    from pfdrill.fabric import deploy as fabric_deploy

    client, cfg = _client(provider, name, kubeconfig, context, config)
    result = fabric_deploy.deploy(client, target=ProviderKind.parse(provider), config=cfg,
                                  manifest_dir=manifests, timeout_s=timeout,
                                  progress=lambda m: typer.echo(m, err=True))
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print(result.to_dict())


@app.command("status")
def status(provider: str = ProviderOpt, name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt,
           context: str | None = ContextOpt, config: Path | None = ConfigOpt,
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the fabric's Deployments, pods, enforcement mode, DFA digest and trust bundle."""
    from pfdrill.fabric import deploy as fabric_deploy

    client, cfg = _client(provider, name, kubeconfig, context, config)
    result = fabric_deploy.status(client, cfg.namespace)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print(result.to_dict())
    if not result.ready:
        raise typer.Exit(1)


@app.command("check")
def check(provider: str = ProviderOpt, name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt,
          context: str | None = ContextOpt, config: Path | None = ConfigOpt,
          drills: Path | None = typer.Option(
              None, "--drills", help="Drill suite whose drills each gap disables "
              "(default: drills/weekly.yaml when present)."),
          deep: bool = typer.Option(False, "--deep", help="Also the log markers and SIGUSR1 "
                                    "(sends SIGUSR1 to the watchers: a state dump)."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Check the running fabric against what drills rely on: objects, ConfigMap keys,
    labels, the metrics the alert rules read, /healthz and /readyz. Exit 1 on any gap."""
    import shutil

    from pfdrill.drill import suitefile
    from pfdrill.fabric import readiness
    from pfdrill.stack import contract
    from pfdrill.stack.lifecycle import runtime_dir_for

    client, cfg = _client(provider, name, kubeconfig, context, config)
    from pfdrill.settings.paths import Paths

    pods = readiness.pod_http(client, runtime_dir_for(client.context, Paths.from_env()))
    kubectl = None
    if deep:
        kc = str(getattr(client, "kubeconfig", "") or "")
        kubectl = contract.Kubectl(shutil.which("kubectl") or "kubectl", kc, client.context)
    report = contract.checker(client, cfg.namespace, pods, optin_label=cfg.optin_label,
                              kubectl=kubectl).run(deep=deep)
    suite = drills or (Path("drills/weekly.yaml") if Path("drills/weekly.yaml").is_file()
                       else None)
    specs = suitefile.load(suite).drills if suite else ()
    if as_json:
        typer.echo(json.dumps([{"kind": f.requirement.kind.value, "name": f.requirement.name,
                                "want": f.requirement.want, "status": f.status.value,
                                "observed": f.observed, "disables": report.disables(f, specs)
                                if not f.ok else []} for f in report.findings], indent=1))
    else:
        typer.echo(report.table(specs))
    if report.gaps:
        raise typer.Exit(1)


@app.command("undeploy")
def undeploy(provider: str = ProviderOpt, name: str = NameOpt, kubeconfig: Path | None = KubeconfigOpt,
             context: str | None = ContextOpt, config: Path | None = ConfigOpt,
             manifests: Path | None = ManifestsOpt, as_json: bool = JsonOpt) -> None:
    """Remove the fabric (the namespace too, if pfdrill created it)."""
    from pfdrill.cluster.provider import ProviderKind
    from pfdrill.fabric import deploy as fabric_deploy

    client, cfg = _client(provider, name, kubeconfig, context, config)
    removed = fabric_deploy.undeploy(client, target=ProviderKind.parse(provider), config=cfg,
                                     manifest_dir=manifests)
    if as_json:
        typer.echo(json.dumps({"removed": removed}, indent=2))
    else:
        typer.echo(f"removed {len(removed)} objects" + (f": {', '.join(removed)}" if removed else ""))


@app.command("render")
def render(target: str = typer.Option("kwok", "--target", "-t", help="kwok, kind or existing: "
                                      "which overlay (deploy/overlays/<target>)."),
           context: str | None = typer.Option(None, "--context", help="Add Secret fabric-certs "
                                              "signed by this context's CA, as deploy does."),
           config: Path | None = ConfigOpt, manifests: Path | None = ManifestsOpt,
           as_json: bool = typer.Option(False, "--json", help="Print a JSON v1 List.")) -> None:
    """Print what `kubectl apply -k deploy/overlays/<target>` applies, as YAML."""
    from pfdrill.cluster.provider import ProviderKind
    from pfdrill.fabric import deploy as fabric_deploy
    from pfdrill.fabric import manifests as fabric_manifests
    from pfdrill.settings.config import load_config

    kind, cfg = ProviderKind.parse(target), load_config(config)
    if context is not None:
        objects = fabric_deploy.render_for(context, target=kind, config=cfg, manifest_dir=manifests)
    else:
        objects = fabric_manifests.render(manifests or fabric_manifests.overlay(kind), None,
                                          namespace=cfg.namespace, optin_label=cfg.optin_label)
    if as_json:
        typer.echo(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=2))
    else:
        typer.echo(fabric_manifests.to_yaml(objects), nl=False)


def _print(info: dict[str, object]) -> None:
    typer.echo(f"context:     {info['context']}  namespace: {info['namespace']}")
    typer.echo(f"ready:       {'yes' if info['ready'] else 'no'}")
    typer.echo(f"enforcement: {info['enforcement_mode'] or '-'}")
    typer.echo(f"dfa sha256:  {info['dfa_sha256'] or '-'}")
    keys = info["trust_bundle_keys"]
    assert isinstance(keys, list)
    typer.echo(f"trust keys:  {', '.join(keys) or '-'}")
    deployments = info["deployments"]
    assert isinstance(deployments, list)
    for d in deployments:
        typer.echo(f"deployment:  {d['name']} {d['ready']}/{d['replicas']} ready")
    pods = info["pods"]
    assert isinstance(pods, list)
    for p in pods:
        typer.echo(f"pod:         {p['name']} {p['phase']} ready={p['ready']} restarts={p['restarts']}")
