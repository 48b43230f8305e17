"""``pfdrill sensitivity``: search a fault's size for the edge an alert detects (parse, delegate, print)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from pathlib import Path

import typer

from pfdrill.errors import EnvironmentProblem
from pfdrill.model.sensitivity import EdgeVerdict
from pfdrill.model.sla import TimingProfile

app = typer.Typer(help="The smallest fault each alert catches, measured on the live stack, "
                       "against the runbook's severity table.")


@app.callback(invoke_without_command=True)
def sensitivity(
    alert: str | None = typer.Option(None, "--alert", help="Search this alert (e.g. RejectRateSpikeHigh)."),
    fault: str | None = typer.Option(None, "--fault", help="Search every alert of this fault."),
    file: Path = typer.Option(Path("drills/sensitivity.yaml"), "--file",
                              help="The searches (alert, fault, fixed params, SLA, budget)."),
    max_injections: int | None = typer.Option(None, "--max-injections", min=1, max=50,
                                              help="At most this many injections per alert."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    profile: TimingProfile = typer.Option(TimingProfile.DRILL, "--profile", help="Timing profile."),
    reports: Path = typer.Option(Path("reports"), "--reports", help="Where reports/<run-id>/ go."),
    provider: str = typer.Option("kwok", "--provider", "-p", help="kwok (embedded), kind or existing."),
    name: str = typer.Option("pfdrill", "--name", help="Cluster name (kwok/kind)."),
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig", help="kubeconfig for --provider existing."),
    context: str | None = typer.Option(None, "--context", help="Context for --provider existing."),
    config: Path | None = typer.Option(None, "--config", help="pfdrill config file (allow-list)."),
) -> None:
    """Inject --alert's (or --fault's) fault at sizes around the edge, each restored before the next.

    Exit 0 when every threshold agrees with the table, 1 when one is mis-set or
    the search was inconclusive.
    """
    from pfdrill.drill import progress, suite, wiring
    from pfdrill.drill import sensitivity as search
    from pfdrill.obs import stack
    from pfdrill.obs.api import PrometheusAPI

    chosen = search.select(search.load(file), alert=alert, fault=fault, profile=profile)
    chosen = [dataclasses.replace(s, profile=profile,
                                  max_injections=max_injections or s.max_injections)
              for s in chosen]
    factory = wiring.StackEnvironmentFactory.from_options(
        provider=provider, name=name, kubeconfig=kubeconfig, context=context, config=config,
        progress=lambda m: typer.echo(m, err=True))
    env = factory.build(profile)
    try:
        endpoints = stack.resolve(factory.config, factory.name, factory.paths)
        with PrometheusAPI(endpoints.prometheus_url) as prom:
            loaded = prom.alert_exprs()
        for s in chosen:
            differs = search.loaded_rule_differs(s.alert, profile, loaded)
            if differs:
                raise EnvironmentProblem(differs)
        outcome = search.run(chosen, env, reports=reports, run_id=suite.new_run_id(),
                             observers=[progress.ProgressPrinter(sys.stderr)],
                             progress=lambda m: typer.echo(m, err=True))
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one to tell
            env.close()
        raise
    env.close()
    from pfdrill.report import sensitivity as report

    if as_json:
        typer.echo(json.dumps(report.document(outcome.results, outcome.report_dir.name), indent=1))
    else:
        typer.echo(report.text(outcome.results))
        typer.echo(f"report: {outcome.report_dir / report.HTML}")
    agree = all(r.verdict is EdgeVerdict.AGREES for r in outcome.results)
    raise typer.Exit(0 if agree else 1)
