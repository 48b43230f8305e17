"""``pfdrill alerts``: render, check and conform the alert rules; baseline and classify live."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pfdrill.cli.output import JsonOpt, emit

if TYPE_CHECKING:
    from pfdrill.classify.thresholds import ThresholdTable

app = typer.Typer(help="Alert rules, thresholds conformance, baselines and severity.",
                  no_args_is_help=True)

NameOpt = typer.Option("pfdrill", "--name", "--cluster", help="Cluster whose stack to query.")
ConfigOpt = typer.Option(None, "--config", help="pfdrill config file. Default: $PFDRILL_CONFIG.")
ThresholdsOpt = typer.Option(None, "--thresholds", help="Thresholds table (default: deploy/alerts/thresholds.yaml).")
RunbookOpt = typer.Option(None, "--runbook", help="Take the severity table from this runbook (Markdown).")
ProfilesOpt = typer.Option(["drill", "production"], "--profile", help="Timing profile(s).")


def _table(thresholds: Path | None, runbook: Path | None) -> ThresholdTable:
    from pfdrill.classify import runbook_table
    from pfdrill.classify import thresholds as thresholds_mod

    table = runbook_table.load(runbook) if runbook else None
    return thresholds_mod.load(thresholds, table)


@app.command("render")
def render(out: Path = typer.Option(..., "--out", help="Directory to write <profile>/ into "
                                    "(in pfdrill's repository: deploy/alerts)."),
           profiles: list[str] = ProfilesOpt,
           source: Path | None = typer.Option(None, "--alerts-dir", help="Directory with source/ "
                                              "(default: the alert rules shipped with pfdrill)."),
           check: bool = typer.Option(True, "--check/--no-check",
                                      help="promtool check rules on each rendered rule file."),
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Render the rule source per timing profile: rules, promtool tests and a PrometheusRule."""
    from pfdrill.model.sla import TimingProfile
    from pfdrill.obs import promtool, rulefiles
    from pfdrill.obs import rules as rules_mod

    names = tuple(TimingProfile.parse(p) for p in profiles)
    files = rulefiles.render(names, source)
    written = rulefiles.write(out, files)
    counts = {n.value: promtool.check_rules(out / n.value / rules_mod.RENDERED_FILE,
                                            source=(source or rules_mod.alerts_dir()) / rules_mod.RULES_FILE)
              for n in names} if check else {}
    if as_json:
        typer.echo(json.dumps({"files": [str(p) for p in written], "rules": counts}, indent=2))
        return
    for n in names:
        tests = sum(1 for rel in files if rel.startswith(f"{n.value}/{rulefiles.TESTS}/"))
        checked = f"{counts[n.value]} rules" if check else "not checked"
        typer.echo(f"{out / n.value}: {rules_mod.RENDERED_FILE} ({checked}), "
                   f"{rulefiles.PROMETHEUS_RULE}, {tests} promtool test files")


@app.command("check")
def check(profiles: list[str] = ProfilesOpt,
          source: Path | None = typer.Option(None, "--alerts-dir", help="Directory with source/rules.yml and source/tests/ (default: deploy/alerts)."),
          as_json: bool = JsonOpt) -> None:
    """promtool check rules + promtool test rules (deploy/alerts/source/tests) for each profile."""
    from pfdrill.obs import profile as profile_mod
    from pfdrill.obs import rules as rules_mod

    with tempfile.TemporaryDirectory(prefix="pfdrill-alerts-") as tmp:
        results = [rules_mod.verify(profile_mod.get(name), Path(tmp) / name, source)
                   for name in profiles]
    emit(as_json, [{"profile": r.profile, "rules": r.rules, "tests": list(r.tests),
                    "failed": list(r.failed), "ok": r.ok} for r in results],
         "\n".join(f"{r.profile:<11} {r.rules} rules, {len(r.tests)} test files: "
                   + ("ok" if r.ok else f"FAILED: {', '.join(r.failed) or 'no tests'}")
                   for r in results))
    for r in results:
        if not r.ok:
            typer.echo(r.output.strip(), err=True)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command("conform")
def conform(thresholds: Path | None = ThresholdsOpt, runbook: Path | None = RunbookOpt,
            rules: Path | None = typer.Option(None, "--rules", help="Rule source (default: deploy/alerts/source/rules.yml)."),
            profiles: list[str] = ProfilesOpt,
            as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Check that alert rules and classifier fire where the runbook's table says; print the table.

    Exits 0 when every row is within tolerance, 1 naming the rows that are not.
    """
    from pfdrill.classify import conformance
    table = _table(thresholds, runbook)
    report = conformance.check(table, rules, profiles)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(conformance.table_text(report))
    if not report.ok:
        names = [r.row.id for r in report.failing()] + list(report.stray_alerts)
        typer.echo(f"pfdrill: not conforming: {', '.join(names)}", err=True)
        raise typer.Exit(1)


@app.command("baseline")
def baseline(name: str = NameOpt, config: Path | None = ConfigOpt,
             over: float = typer.Option(60.0, "--over", help="Average over the last N seconds."),
             as_json: bool = JsonOpt) -> None:
    """Measure the steady-state baseline from Prometheus and publish it through the sink."""
    from pfdrill.classify import measure
    from pfdrill.errors import ServiceUnavailable
    from pfdrill.obs import stack
    from pfdrill.obs.api import PrometheusAPI
    from pfdrill.settings import load_config
    from pfdrill.sink.client import SinkClient

    ep = stack.resolve(load_config(config), name)
    with PrometheusAPI(ep.prometheus_url) as prom:
        measured = measure.measure_baseline(prom, over)
    if not ep.sink_url:
        raise ServiceUnavailable("no sink to publish the baseline through (pfdrill sink serve --detach)")
    published = SinkClient(ep.sink_url).publish_baseline(measured)
    emit(as_json, published, "\n".join(f"{k}: {v}" for k, v in published.items()))


@app.command("classify")
def classify(name: str = NameOpt, config: Path | None = ConfigOpt,
             thresholds: Path | None = ThresholdsOpt, runbook: Path | None = RunbookOpt,
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Classify the live signals against the published baseline: SEV-1..4 or none, with reasons."""
    from pfdrill.classify import classifier, measure
    from pfdrill.model.signals import Baseline
    from pfdrill.obs import stack
    from pfdrill.obs.api import PrometheusAPI
    from pfdrill.settings import load_config
    from pfdrill.sink.client import SinkClient

    table = _table(thresholds, runbook)
    ep = stack.resolve(load_config(config), name)
    base = Baseline.from_dict(dict(SinkClient(ep.sink_url).baselines())) if ep.sink_url else Baseline()
    with PrometheusAPI(ep.prometheus_url) as prom:
        verdict = classifier.classify(measure.measure(prom), base, table)
    if as_json:
        typer.echo(json.dumps(verdict.to_dict(), indent=2))
        return
    typer.echo(f"severity: {verdict.severity.value}")
    for reason in verdict.reasons:
        typer.echo(f"  {reason.describe()}")
