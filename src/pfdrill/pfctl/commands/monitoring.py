"""``pfctl monitoring add-alert|update-threshold|add-predictive|update``."""

from __future__ import annotations

import typer

from pfdrill.pfctl import alerting
from pfdrill.pfctl.commands.common import EnvOpt, ctx

app = typer.Typer(help="Edit the live alert rules and reload Prometheus.", no_args_is_help=True)
SevOpt = typer.Option("SEV-2", "--severity", help="Severity label of the new alert.")


@app.command("add-alert")
def add_alert(rule: str = typer.Option(..., "--rule", help="Signal or alias name."),
              threshold: str = typer.Option(..., "--threshold"),
              duration: str = typer.Option("1m", "--duration", help="How long before it fires."),
              expr: str | None = typer.Option(None, "--expr", help="PromQL instead of a signal."),
              severity: str = SevOpt, env: str | None = EnvOpt) -> None:
    """Add (or replace) an alert on a signal."""
    r = alerting.add_alert(ctx(env), rule, threshold, duration, severity, expr)
    typer.echo(f"{r['alert']}: {r['expr']} for {r['for']}; {r['prometheus']}")


@app.command("update-threshold")
def update_threshold(metric: str = typer.Option(..., "--metric"),
                     new_threshold: str = typer.Option(..., "--new-threshold"),
                     env: str | None = EnvOpt) -> None:
    """Change the threshold of every alert on a signal."""
    r = alerting.update_threshold(ctx(env), metric, new_threshold)
    for c in r["changed"]:
        typer.echo(c)
    typer.echo(r["prometheus"])


@app.command("add-predictive")
def add_predictive(metric: str = typer.Option(..., "--metric"),
                   prediction_window: str = typer.Option(..., "--prediction-window"),
                   threshold: str | None = typer.Option(None, "--threshold",
                                                        help="Default: 10x the signal's baseline."),
                   severity: str = SevOpt, env: str | None = EnvOpt) -> None:
    """Alert when a signal is predicted (linear trend) to cross its limit."""
    r = alerting.add_predictive(ctx(env), metric, prediction_window, threshold, severity)
    typer.echo(f"{r['alert']}: {r['expr']}; {r['prometheus']}")


@app.command("update")
def update(based_on_incident: str = typer.Option(..., "--based-on-incident"),
           env: str | None = EnvOpt) -> None:
    """Add the alerts that would have caught this incident sooner."""
    r = alerting.update_from_incident(ctx(env), based_on_incident)
    typer.echo(f"incident {r['incident']}: added {', '.join(r['added']) or 'nothing'}; "
               f"already present {', '.join(r['already_present']) or '-'}")
