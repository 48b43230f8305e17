"""``pfdrill dashboard``: the live view of drills and game days in a browser (parse, delegate, print)."""

from __future__ import annotations

import threading
from pathlib import Path

import typer

from pfdrill.cli.output import JsonOpt, emit

app = typer.Typer(help="Serve the live dashboard on 127.0.0.1 (drills and game days, as they run).",
                  invoke_without_command=True)


@app.callback()
def serve(port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0: any free one)."),
          name: str = typer.Option("pfdrill", "--name", help="Cluster name (kwok/kind)."),
          provider: str = typer.Option("kwok", "--provider", "-p"),
          kubeconfig: Path | None = typer.Option(None, "--kubeconfig"),
          context: str | None = typer.Option(None, "--context"),
          config: Path | None = typer.Option(None, "--config", help="pfdrill config file."),
          duration: float = typer.Option(0.0, "--for", help="Stop after this many seconds "
                                         "(default: until Ctrl-C)."),
          as_json: bool = JsonOpt) -> None:
    """Follow `pfdrill drill run` and `pfdrill gameday run` live: phases against budgets,
    alerts, notifications, cluster changes, metric curves. Prints its address."""
    import time

    from pfdrill.dashboard.board import Dashboard
    from pfdrill.dashboard.world import Surroundings
    from pfdrill.drill import live
    from pfdrill.gameday import session
    from pfdrill.gameday.store import GameDayDir
    from pfdrill.model.gameday import Role
    from pfdrill.obs.api import PrometheusAPI
    from pfdrill.settings.config import load_config

    around = Surroundings.of_stack(name=name, provider=provider, kubeconfig=kubeconfig,
                                   context=context, config=load_config(config))

    def tokens() -> dict[Role, str]:
        ep = session.running()  # a game day's facilitator and observers keep their views here
        return GameDayDir.of(ep.id).tokens() if ep is not None else {}

    board = Dashboard(journals=live.directory(), title="pfdrill dashboard",
                      pollers=around.pollers(around.cluster(), since=time.time()),
                      prometheus=PrometheusAPI(around.prometheus_url), tokens=tokens)
    url = board.start(port=port)
    ep = session.running()
    emit(as_json, {"dashboard": url, "gameday": None if ep is None else {"id": ep.id, "url": ep.url}},
         f"dashboard: {url}" + ("" if ep is None else
                                f"\ngame day {ep.id} runs with its own controls at {ep.url}"))
    stop = threading.Event()
    try:
        stop.wait(duration if duration > 0 else None)
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
