"""``pfdrill gate``: judge a runbook change against its base, then run the drills it touches."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from pfdrill.cli.output import JsonOpt, emit

app = typer.Typer(help="The CI gate on runbook changes.", no_args_is_help=False)


@app.callback(invoke_without_command=True)
def gate(
    base: str | None = typer.Option(None, "--base", help="Base revision (default: the merge base "
                                    "with the default branch: origin/HEAD, main or master)."),
    changed: list[str] | None = typer.Option(None, "--changed", help="A changed file "
                                             "(repeatable; default: what git says changed)."),
    runbook: Path | None = typer.Option(None, "--runbook", help="The runbook the suites use "
                                        "in place of their defaults.runbook."),
    drills: list[str] = typer.Option(["drills/*.yaml", "drills/*.yml"], "--drills",
                                     help="Drill files to consider (glob, repeatable)."),
    only: list[str] = typer.Option([], "--only", help="Consider only this drill (repeatable)."),
    strict: bool = typer.Option(False, "--strict", help="Fail on standing failures too."),
    fail_fast: bool = typer.Option(False, "--fail-fast",
                                   help="Run no drill once the runbook check found a regression."),
    repo: Path = typer.Option(Path("."), "--repo", help="The checkout (default: here)."),
    reports: Path = typer.Option(Path("reports"), "--reports",
                                 help="Reports go to REPORTS/gate/<run-id>/."),
    inputs: Path | None = typer.Option(None, "--inputs", help="Operator-written files to put "
                                       "in each runbook sandbox."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use or fill the base cache."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Base results cache "
                                          "(default: $PFDRILL_CACHE_DIR/gate, ~/.cache/pfdrill/gate)."),
    provider: str = typer.Option("kwok", "--provider", "-p", help="kwok, kind or existing."),
    name: str = typer.Option("pfdrill", "--name", help="Cluster name (kwok/kind)."),
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig"),
    context: str | None = typer.Option(None, "--context"),
    config: Path | None = typer.Option(None, "--config", help="pfdrill config (allow-list)."),
    as_json: bool = JsonOpt,
) -> None:
    """Exit 0: no regression; 1: a regression (or, with --strict, a known failure);
    2: bad input; 3: environment problem. The summary is printed (``--json``: the result) and written to
    REPORTS/gate/<run-id>/summary.md with junit.xml and gate.json (deploy/ci/gate.sh hands
    them to the CI system)."""
    from pfdrill.drill import progress, wiring
    from pfdrill.errors import DrillFailed, EnvironmentProblem
    from pfdrill.gate import gatekeeper, plan, summary

    def say(message: str) -> None:
        typer.echo(message, err=True)

    request = plan.Request(repo=repo, base=base, changed=tuple(changed) if changed else None,
                           runbook=runbook, drill_files=tuple(drills), only=tuple(only),
                           strict=strict, fail_fast=fail_fast)
    factory = wiring.StackEnvironmentFactory.from_options(
        provider=provider, name=name, kubeconfig=kubeconfig, context=context, config=config,
        progress=say)
    keeper = gatekeeper.Gatekeeper(request, factory, reports=reports, inputs=inputs,
                                   use_cache=not no_cache, cache_dir=cache_dir, progress=say,
                                   observers=[progress.ProgressPrinter(sys.stderr)])
    outcome = keeper.run()
    result = outcome.result
    emit(as_json, {**result.to_dict(), "report_dir": str(outcome.report_dir)},
         (outcome.report_dir / summary.MARKDOWN).read_text(encoding="utf-8"))
    if result.passed:
        return
    said = f"gate: {summary.headline(result)} (see {outcome.report_dir / summary.MARKDOWN})"
    if result.unjudged and not result.regressions:
        raise EnvironmentProblem(said)
    raise DrillFailed(said)
