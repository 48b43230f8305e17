"""``pfdrill drill``: run and validate drill suites (parse, delegate, print)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pfdrill.cli.output import JsonOpt, emit
from pfdrill.model.sla import TimingProfile

if TYPE_CHECKING:
    from pfdrill.model.drill import SuiteSpec

app = typer.Typer(help="Run and validate drill suites (drills/*.yaml).", no_args_is_help=True)

OnlyOpt = typer.Option([], "--only", help="Run only this drill (repeatable).")
ProfileOpt = typer.Option(None, "--profile", help="Timing profile for every drill "
                          "(default: each drill's own, usually 'drill').")
ReportsOpt = typer.Option(Path("reports"), "--reports", help="Where reports/<run-id>/ go.")
ProviderOpt = typer.Option("kwok", "--provider", "-p", help="kwok (embedded), kind or existing.")
NameOpt = typer.Option("pfdrill", "--name", help="Cluster name (kwok/kind).")
KubeconfigOpt = typer.Option(None, "--kubeconfig", help="kubeconfig for --provider existing.")
ContextOpt = typer.Option(None, "--context", help="Context for --provider existing.")
ConfigOpt = typer.Option(None, "--config", help="pfdrill config file (allow-list). "
                         "Default: $PFDRILL_CONFIG.")


DeployOpt = typer.Option(None, "--deploy-fabric/--no-deploy-fabric",
                         help="Deploy pfdrill's reference fabric when none runs (default: only "
                         "into a cluster pfdrill created; never over an existing one's).")
WaitOpt = typer.Option(0.0, "--wait", help="Seconds to wait for another drill's lease "
                       "(default: refuse at once, exit 3, naming its holder).")


@app.command("run")
def run(file: Path = typer.Argument(..., help="A drill suite, e.g. drills/weekly.yaml."),
        only: list[str] = OnlyOpt, profile: TimingProfile | None = ProfileOpt,
        reports: Path = ReportsOpt, provider: str = ProviderOpt, name: str = NameOpt,
        kubeconfig: Path | None = KubeconfigOpt, context: str | None = ContextOpt,
        config: Path | None = ConfigOpt, deploy_fabric: bool | None = DeployOpt,
        wait: float = WaitOpt,
        as_json: bool = typer.Option(False, "--json", help="Print the suite's result as JSON "
                                     "(progress still goes to stderr).")) -> None:
    """Run a suite against the drill cluster; exit 0 when every drill passed, 1 otherwise."""
    from pfdrill.drill import live, progress, suite, wiring
    from pfdrill.settings.paths import Paths

    factory = wiring.StackEnvironmentFactory.from_options(
        provider=provider, name=name, kubeconfig=kubeconfig, context=context, config=config,
        progress=lambda m: typer.echo(m, err=True), deploy_fabric=deploy_fabric,
        lease_wait_s=wait)
    outcome = suite.run_file(file, factory, reports=reports,
                             history=Paths.from_env().state / "history.sqlite", only=only,
                             profile=profile,
                             extra_observers=[progress.ProgressPrinter(sys.stderr),
                                              live.LiveJournal(live.directory())])
    result = outcome.result
    c = result.counts
    emit(as_json, {**result.to_dict(), "report_dir": str(outcome.report_dir)}, "\n".join([
        f"{result.suite}: {c['passed']}/{len(result.results)} passed"
        + "".join(f", {n} {k}" for k, n in c.items() if n and k != "passed"),
        *(f"  {r.headline()}" for r in result.results),
        f"report: {outcome.report_dir / 'report.html'}"]))
    raise typer.Exit(0 if result.passed else 1)


@app.command("validate")
def validate(file: Path = typer.Argument(..., help="A drill suite to check."),
             only: list[str] = OnlyOpt,
             as_json: bool = JsonOpt) -> None:
    """Check a drill file (schema, faults and their parameters, runbook sections); no cluster."""
    suite = validated(file, only)
    emit(as_json, {"file": str(file), "suite": suite.name, "drills": [d.name for d in suite.drills]},
         f"{file}: suite {suite.name!r}, {len(suite.drills)} drill(s) valid: "
         + ", ".join(d.name for d in suite.drills))


def validated(file: Path, only: list[str] | None = None) -> SuiteSpec:
    """The suite in ``file`` (or its ``only`` drills), checked against the real fault catalog
    and its runbook; raises naming file and line otherwise."""
    from pfdrill.drill import suitefile, wiring

    suite = suitefile.select(suitefile.load(file), only or [])
    # runbook sections first: that check needs nothing but the runbook files
    suitefile.check(suite, wiring.AnyFault(), wiring.RunbookChecker())
    suitefile.check(suite, wiring.fault_catalog(), wiring.RunbookChecker())
    return suite
