"""``pfdrill load``: drive traffic at the fabric with locust (in its own process)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from pfdrill.errors import InvalidInput
from pfdrill.model.fabric import FABRIC

app = typer.Typer(help="Drive compliant, violating, unauthenticated and tampered traffic at the fabric.",
                  no_args_is_help=True)


def parse_mix(text: str) -> dict[str, float]:
    """``compliant=90,violating=10`` → weights by kind name."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, sep, weight = part.partition("=")
        try:
            out[kind.strip()] = float(weight) if sep else 1.0
        except ValueError:
            raise InvalidInput(f"--mix: weight of {kind.strip()!r} is not a number: {weight!r}") from None
    return out


@app.command("run")
def run(
    target: str = typer.Option(None, "--target", help="Watcher base URL (default: the kwok Service proxy)."),
    rate: float = typer.Option(20.0, "--rate", help="Total requests per second."),
    mix: str = typer.Option("", "--mix", help="Weights, e.g. compliant=90,violating=6,unauthenticated=2,"
                                              "tampered_witness=2 (default: the steady baseline mix)."),
    duration: float = typer.Option(30.0, "--duration", help="Seconds to run (0: until Ctrl-C)."),
    workers: int = typer.Option(0, "--workers", help="locust distributed mode: this many local workers."),
    context: str = typer.Option("kwok-pfdrill", "--context", help="Cluster whose CA issues the identities."),
    name: str = typer.Option("pfdrill", "--name", help="kwok cluster name (to find the Service proxy)."),
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Keep plan, identities, stats and log here."),
    as_json: bool = typer.Option(False, "--json", help="Print the final statistics as JSON."),
) -> None:
    """Run a load and print live and final statistics."""
    from pfdrill.fabric.authority import Authority
    from pfdrill.load import runner
    from pfdrill.load.plan import BASELINE_MIX, LoadPlan, TrafficKind

    url = target or _service_url(name)
    weights = BASELINE_MIX
    if mix:
        try:
            weights = {TrafficKind(k): w for k, w in parse_mix(mix).items()}
        except ValueError as exc:
            kinds = ", ".join(k.value for k in TrafficKind)
            raise InvalidInput(f"--mix: {exc} (kinds: {kinds})") from None
    plan = LoadPlan.mixed(url, rate, weights, duration_s=duration or None)
    load = runner.start(plan, Authority.for_context(context), run_dir=run_dir, workers=workers)
    typer.echo(f"locust: {plan.total_users} users, {plan.total_rate:g} req/s at {url} "
               f"(run dir {load.run_dir})", err=True)
    try:
        while load.running:
            time.sleep(5)
            live = load.stats()
            if live is not None:
                typer.echo(live.summary(), err=True)
    except KeyboardInterrupt:
        typer.echo("stopping", err=True)
    final = load.stop()
    typer.echo(json.dumps(final.to_dict(), indent=2) if as_json else final.summary())
    if run_dir is None:
        load.cleanup()


def _service_url(name: str) -> str:
    from pfdrill.stack.lifecycle import Stack

    info = Stack(name=name).info()
    address = info.service_address(info.namespace, FABRIC.watcher)
    if address is None:
        raise InvalidInput("no --target given and no sidecar-watcher Service proxy found "
                           f"(is the kwok cluster {name!r} up with the fabric deployed?)")
    return f"http://{address}"
