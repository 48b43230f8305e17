"""``pfdrill runtime``: the process runtime that runs kwok pods as local processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from pfdrill.cli.output import JsonOpt, emit
from pfdrill.model.fabric import RuntimeFiles

app = typer.Typer(help="The process runtime (kwok): pods run as local processes.", no_args_is_help=True)


def _dir(name: str) -> Path:
    from pfdrill.runtime import reconciler
    from pfdrill.settings.paths import Paths

    return reconciler.runtime_dir(Paths.from_env().state, name)


@app.command("status")
def status(name: str = typer.Option("pfdrill", "--name", help="Cluster name."),
           as_json: bool = JsonOpt) -> None:
    """List the pods the runtime runs, with pids, ports, readiness and restarts."""
    from pfdrill.runtime import reconciler

    rdir = _dir(name)
    pid = reconciler.pid_of(rdir)
    state_file = RuntimeFiles(rdir).state
    running = bool(pid) and state_file.is_file()
    state = json.loads(state_file.read_text()) if running else {}
    emit(as_json, {"name": name, "pid": pid, "running": running, "pods": state.get("pods", {})},
         lambda: _table(name, pid, state))
    if not running:
        raise typer.Exit(1)


def _table(name: str, pid: int | None, state: dict[str, Any]) -> None:
    typer.echo(f"runtime for {name!r}: {f'running (pid {pid})' if pid else 'not running'}")
    if not state:
        return
    typer.echo(f"{'pod':<48} {'container':<18} {'pid':>7} {'ready':<6} {'restarts':>8}  ports")
    for key, pod in sorted(state.get("pods", {}).items()):
        for cname, c in pod.get("containers", {}).items():
            ports = ",".join(f"{p['containerPort']}->{p['local']}" for p in pod["ports"].get(cname, []))
            typer.echo(f"{key:<48} {cname:<18} {c['pid'] or '-':>7} {str(c['ready']).lower():<6} "
                       f"{c['restarts']:>8}  {ports}")
        if pod.get("stand_in"):
            typer.echo(f"{key:<48} stand-in for {pod['stand_in']}")


@app.command("start")
def start(name: str = typer.Option("pfdrill", "--name"),
          kubeconfig: Path = typer.Option(..., "--kubeconfig"),
          context: str = typer.Option(..., "--context"), as_json: bool = JsonOpt) -> None:
    """Start the runtime detached (``cluster up`` does this for kwok)."""
    from pfdrill.runtime import reconciler

    pid = reconciler.start_detached(kubeconfig, context, _dir(name))
    emit(as_json, {"name": name, "pid": pid}, f"runtime running (pid {pid})")


@app.command("stop")
def stop(name: str = typer.Option("pfdrill", "--name"), as_json: bool = JsonOpt) -> None:
    """Stop the runtime and every process it runs."""
    from pfdrill.runtime import reconciler

    stopped = reconciler.stop_detached(_dir(name))
    emit(as_json, {"name": name, "stopped": stopped},
         "runtime stopped" if stopped else "runtime was not running")
