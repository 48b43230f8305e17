"""``pfctl config show|diff|update|deploy``."""

from __future__ import annotations

from pathlib import Path

import typer

from pfdrill.pfctl import configrev
from pfdrill.pfctl.commands.common import EnvOpt, check_format, ctx, emit

app = typer.Typer(help="policy-config: show, diff against a revision, update, deploy.",
                  no_args_is_help=True)
FileOpt = typer.Option(..., "--file", help="YAML mapping of policy-config keys.")


@app.command("show")
def show(env: str | None = EnvOpt,
         fmt: str = typer.Option("yaml", "--format", help="json, yaml or text.")) -> None:
    """The live policy-config and what the fabric makes of it."""
    chosen = check_format(fmt)
    emit(configrev.show(ctx(env)), chosen)


@app.command("diff")
def diff(env: str | None = EnvOpt,
         baseline: str = typer.Option("HEAD", "--baseline",
                                      help="git revision of policy/policy-config.yaml, or rev:N")) -> None:
    """Differences between the live policy-config and a baseline revision."""
    c = ctx(env)
    old, where = configrev.baseline(c, baseline)
    lines = configrev.diff(old, configrev.current(c))
    typer.echo(f"--- {where}")
    typer.echo(f"+++ live ConfigMap {c.namespace}/policy-config")
    for ln in lines or ["(no drift)"]:
        typer.echo(ln)


@app.command("update")
def update(file: Path = FileOpt, env: str | None = EnvOpt) -> None:
    """Record a new revision (policy repo commit and store row); the cluster is not touched."""
    r = configrev.update(ctx(env), file)
    typer.echo(f"revision {r['revision']}: {', '.join(f'{k}={v}' for k, v in r['changes'].items())}"
               + (f" (commit {r['commit']})" if r["commit"] else ""))


@app.command("deploy")
def deploy(file: Path = FileOpt, env: str | None = EnvOpt) -> None:
    """Apply to the live ConfigMap and wait for the sidecar-watcher to accept it."""
    r = configrev.deploy(ctx(env), file)
    typer.echo(f"deployed revision {r['revision']}: watcher {r['watcher']}")
