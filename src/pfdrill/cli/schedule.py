"""``pfdrill schedule``: validate, render and run ``drills/schedule.yaml`` (parse, delegate, print)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pfdrill.schedule.spec import ScheduleSpec

app = typer.Typer(help="Scheduled drills: drills/schedule.yaml, its CronJob, its runs.",
                  no_args_is_help=True)

FileOpt = typer.Option(None, "--file", "-f", help="The schedule file. Default: $PFDRILL_SCHEDULE, "
                       "else drills/schedule.yaml here or in a parent directory.")


def _load(file: Path | None) -> ScheduleSpec:
    from pfdrill.schedule import spec

    return spec.load(spec.locate(file))


@app.command("validate")
def validate(file: Path | None = FileOpt) -> None:
    """Check the schedule, its suites (faults, runbook sections) and its scenario promises."""
    from pfdrill.drill import suitefile, wiring

    sched = _load(file)
    for suite in sched.suites().values():
        suitefile.check(suite, *wiring.static_checkers())
    for e in sched.entries:
        what = ", ".join(e.drills) or "all drills"
        typer.echo(f"{e.name}: {e.suite_ref} ({what}) at '{e.cron}' ({e.frequency.value}"
                   f"{', ' + e.profile.value + ' profile' if e.profile else ''})")
    typer.echo(f"{sched.file}: {len(sched.entries)} schedule(s) valid; summary to "
               f"{sched.webhook.describe()}; history keeps {sched.keep} runs per drill")


@app.command("render")
def render(file: Path | None = FileOpt,
           out: Path = typer.Option(Path("deploy/schedule"), "--out", "-o",
                                    help="Directory for the manifests."),
           check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when the "
                                      "files in --out differ from a fresh render.")) -> None:
    """Write the CronJob(s), ServiceAccount, least-privilege RBAC, PVC and drills ConfigMap."""
    from pfdrill.schedule import manifests

    sched = _load(file)
    files = manifests.render(sched, source=_source(sched.file))
    if check:
        differ = manifests.stale(files, out)
        if differ:
            typer.echo(f"{out}: stale ({', '.join(differ)}); run `pfdrill schedule render`",
                       err=True)
            raise typer.Exit(1)
        typer.echo(f"{out}: up to date")
        return
    for path in manifests.write(files, out):
        typer.echo(f"wrote {path}")


def _source(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return file.name


@app.command("due")
def due(file: Path | None = FileOpt,
        within: int = typer.Option(120, "--within", help="Minutes back a fire still counts.")
        ) -> None:
    """List the entries whose cron fired within the last N minutes (UTC)."""
    from pfdrill.schedule import due as due_mod

    sched = _load(file)
    now = dt.datetime.now(dt.UTC)
    for e in due_mod.due(sched.entries, now, dt.timedelta(minutes=within)):
        typer.echo(e.name)


@app.command("run")
def run(file: Path | None = FileOpt,
        schedule: list[str] = typer.Option([], "--schedule", "-s",
                                           help="Run this entry (repeatable). Default: the "
                                           "entries due now (see --within)."),
        within: int = typer.Option(120, "--within", help="Minutes back a fire still counts."),
        only: list[str] = typer.Option([], "--only", help="Only this drill (repeatable)."),
        reports: Path = typer.Option(Path("reports"), "--reports"),
        summary_out: Path | None = typer.Option(None, "--summary-out",
                                                help="Also write the posted Markdown here."),
        post: bool = typer.Option(True, "--post/--no-post", help="POST the summary."),
        provider: str = typer.Option("kwok", "--provider", "-p"),
        name: str = typer.Option("pfdrill", "--name", help="Cluster name (kwok/kind)."),
        kubeconfig: Path | None = typer.Option(None, "--kubeconfig"),
        context: str | None = typer.Option(None, "--context"),
        in_cluster: bool = typer.Option(False, "--in-cluster", help="With --provider existing: "
                                        "the pod's ServiceAccount, no kubeconfig."),
        config: Path | None = typer.Option(None, "--config")) -> None:
    """Run the due (or named) entries, append to the history, post the summary."""
    from pfdrill.drill import progress, wiring
    from pfdrill.schedule import runner
    from pfdrill.settings.paths import Paths

    sched = _load(file)
    entries = runner.select(sched, schedule, dt.datetime.now(dt.UTC),
                            dt.timedelta(minutes=within))
    if not entries:
        typer.echo("no schedule entry is due")
        return
    factory = wiring.StackEnvironmentFactory.from_options(
        provider=provider, name=name, kubeconfig=kubeconfig, context=context, config=config,
        in_cluster=in_cluster, progress=lambda m: typer.echo(m, err=True))
    report = runner.run(sched, entries, factory, reports=reports,
                        history=Paths.from_env().state / "history.sqlite", only=only, post=post,
                        observers=[progress.ProgressPrinter(sys.stderr)])
    if summary_out is not None:
        summary_out.write_text(report.summary, encoding="utf-8")
    for r in report.runs:
        if r.outcome is not None:
            res = r.outcome.result
            typer.echo(f"{r.entry}: {res.counts['passed']}/{len(res.results)} passed "
                       f"(report: {r.outcome.report_dir / 'report.html'})")
        else:
            typer.echo(f"{r.entry}: stopped: {r.error}")
    for reg in report.regressions:
        typer.echo(f"REGRESSION {reg.drill}: {reg.message}")
    typer.echo(f"history: {report.pruned} old run(s) pruned (keeping {sched.keep} per drill)")
    typer.echo("summary posted" if report.posted else "summary not posted")
    if report.error is not None:
        raise report.error
    raise typer.Exit(0 if report.passed else 1)
