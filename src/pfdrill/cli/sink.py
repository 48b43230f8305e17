"""``pfdrill sink``: the notification sink (serve, stop, show, env)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from pfdrill.cli.output import JsonOpt, emit

app = typer.Typer(help="Run the notification sink and read what it received.", no_args_is_help=True)

NameOpt = typer.Option("pfdrill", "--name", "--cluster", help="Cluster whose sink to use.")
DirOpt = typer.Option(None, "--dir", help="Sink state directory (default: the cluster's).")


def _dir(name: str, directory: Path | None) -> Path:
    from pfdrill.detect import pipeline

    return directory or pipeline.sink_dir(name)


@app.command("serve")
def serve(name: str = NameOpt, directory: Path | None = DirOpt,
          host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
          port: int = typer.Option(0, "--port", help="Port (0: a free one)."),
          detach: bool = typer.Option(False, "--detach", "-d", help="Run in the background."),
          as_json: bool = typer.Option(False, "--json", help="With --detach: print JSON.")) -> None:
    """Serve the sink (foreground, or detached with --detach) and print its URL."""
    from pfdrill.detect import pipeline
    from pfdrill.sink import service

    where = _dir(name, directory)
    if detach:
        ep = pipeline.start_sink(where, host, port)
        emit(as_json, {"url": ep.url, "pid": ep.pid, "journal": str(ep.journal)},
             f"sink: {ep.url} (pid {ep.pid}, journal {ep.journal})")
        return
    raise typer.Exit(service.run(where, host, port))


@app.command("stop")
def stop(name: str = NameOpt, directory: Path | None = DirOpt, as_json: bool = JsonOpt) -> None:
    """Stop a detached sink."""
    from pfdrill.detect import pipeline

    stopped = pipeline.stop_sink(_dir(name, directory))
    emit(as_json, {"stopped": stopped}, "sink stopped" if stopped else "sink was not running")


def _since(text: str | None) -> float | None:
    """'300' or '5m' (ago) or an ISO time -> Unix seconds."""
    if not text:
        return None
    from pfdrill.errors import InvalidInput
    from pfdrill.formats import duration, instant

    if text.replace(".", "", 1).isdigit():
        return time.time() - float(text)
    try:
        return time.time() - duration.seconds(text)
    except InvalidInput:
        pass
    try:
        return instant.parse(text, "--since").timestamp()
    except InvalidInput:
        raise InvalidInput(f"--since {text!r}: expected seconds, a duration like 5m, or a "
                           "time (ISO 8601)") from None


@app.command("show")
def show(name: str = NameOpt, directory: Path | None = DirOpt,
         journal: Path | None = typer.Option(None, "--journal", help="Read this journal file."),
         channel: str | None = typer.Option(None, "--channel", help="alertmanager, slack, security, stakeholder, team, other."),
         since: str | None = typer.Option(None, "--since", help="Seconds or a duration (ago), or an ISO time."),
         as_json: bool = typer.Option(False, "--json", help="One JSON record per line.")) -> None:
    """Print what the sink received, oldest first."""
    from pfdrill.errors import InvalidInput
    from pfdrill.model.detection import Channel
    from pfdrill.sink import journal as journal_mod
    from pfdrill.sink.server import SinkFiles

    path = journal or SinkFiles(_dir(name, directory)).journal
    if journal is not None and not journal.is_file():
        raise InvalidInput("journal file does not exist", file=journal)
    try:
        wanted = Channel.parse(channel) if channel else None
    except ValueError as exc:
        raise InvalidInput(f"--channel: {exc}") from exc
    for n in journal_mod.read(path, channel=wanted, since=_since(since)):
        if as_json:
            typer.echo(json.dumps(n.to_dict(), ensure_ascii=False))
            continue
        alerts = ", ".join(f"{a.alertname}[{a.status}]" for a in n.alerts())
        body = alerts or n.body.replace("\n", "\\n")
        flag = "" if n.json is not None or not n.body else " (not JSON)"
        typer.echo(f"{n.seq:>4} {n.received_iso} {n.channel.value:<12} {n.path:<24} {body[:120]}{flag}")


@app.command("env")
def env(name: str = NameOpt, directory: Path | None = DirOpt, as_json: bool = JsonOpt) -> None:
    """Print `export` lines pointing the runbook's webhooks at the running sink."""
    from pfdrill.errors import ServiceUnavailable
    from pfdrill.model.detection import Channel
    from pfdrill.sink import service

    ep = service.read_endpoint(_dir(name, directory))
    if ep is None:
        raise ServiceUnavailable("the sink is not running (pfdrill sink serve --detach, or pfdrill obs up)")
    hooks = {ch.env_var: f"{ep.url}/{ch.value}" for ch in Channel if ch.env_var}
    emit(as_json, hooks, "\n".join(f"export {var}={url}" for var, url in hooks.items()))
