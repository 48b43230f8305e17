"""``pfdrill schedule``: validate, render and run ``drills/schedule.yaml`` (parse, delegate, print)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pfdrill.cli.output import JsonOpt, emit

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
def validate(file: Path | None = FileOpt, as_json: bool = JsonOpt) -> None:
    """Check the schedule, its suites (faults, runbook sections) and its scenario promises."""
    from pfdrill.drill import suitefile, wiring

    sched = _load(file)
    for suite in sched.suites().values():
        suitefile.check(suite, *wiring.static_checkers())
    lines = [f"{e.name}: {e.suite_ref} ({', '.join(e.drills) or 'all drills'}) at '{e.cron}' "
             f"({e.frequency.value}{', ' + e.profile.value + ' profile' if e.profile else ''})"
             for e in sched.entries]
    lines.append(f"{sched.file}: {len(sched.entries)} schedule(s) valid; summary to "
                 f"{sched.webhook.describe()}; history keeps {sched.keep} runs per drill")
    emit(as_json, {"file": str(sched.file), "keep": sched.keep, "entries": [
        {"name": e.name, "suite": e.suite_ref, "drills": list(e.drills), "cron": e.cron,
         "frequency": e.frequency.value, "profile": e.profile.value if e.profile else None}
        for e in sched.entries]}, "\n".join(lines))


@app.command("render")
def render(file: Path | None = FileOpt,
           out: Path = typer.Option(Path("deploy/schedule"), "--out", "-o",
                                    help="Directory for the manifests."),
           check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when the "
                                      "files in --out differ from a fresh render."),
           as_json: bool = JsonOpt) -> None:
    """Write the CronJob(s), ServiceAccount, least-privilege RBAC, PVC and drills ConfigMap."""
    from pfdrill.schedule import manifests

    sched = _load(file)
    files = manifests.render(sched, source=_source(sched.file))
    if check:
        differ = manifests.stale(files, out)
        if as_json or not differ:
            emit(as_json, {"out": str(out), "stale": list(differ)}, f"{out}: up to date")
        else:
            typer.echo(f"{out}: stale ({', '.join(differ)}); run `pfdrill schedule render`",
                       err=True)
        if differ:
            raise typer.Exit(1)
        return
    written = manifests.write(files, out)
    emit(as_json, {"out": str(out), "written": [str(p) for p in written]},
         "\n".join(f"wrote {p}" for p in written))


def _source(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return file.name


@app.command("due")
def due(file: Path | None = FileOpt,
        within: int = typer.Option(120, "--within", help="Minutes back a fire still counts."),
        as_json: bool = JsonOpt) -> None:
    """List the entries whose cron fired within the last N minutes (UTC)."""
    from pfdrill.schedule import due as due_mod

    sched = _load(file)
    now = dt.datetime.now(dt.UTC)
    names = [e.name for e in due_mod.due(sched.entries, now, dt.timedelta(minutes=within))]
    emit(as_json, names, "\n".join(names))


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
        config: Path | None = typer.Option(None, "--config"),
        as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON (progress "
                                     "still goes to stderr).")) -> None:
    """Run the due (or named) entries, append to the history, post the summary."""
    from pfdrill.drill import progress, wiring
    from pfdrill.schedule import runner
    from pfdrill.settings.paths import Paths

    sched = _load(file)
    entries = runner.select(sched, schedule, dt.datetime.now(dt.UTC),
                            dt.timedelta(minutes=within))
    if not entries:
        emit(as_json, {"runs": []}, "no schedule entry is due")
        return
    factory = wiring.StackEnvironmentFactory.from_options(
        provider=provider, name=name, kubeconfig=kubeconfig, context=context, config=config,
        in_cluster=in_cluster, progress=lambda m: typer.echo(m, err=True))
    report = runner.run(sched, entries, factory, reports=reports,
                        history=Paths.from_env().state / "history.sqlite", only=only, post=post,
                        observers=[progress.ProgressPrinter(sys.stderr)])
    if summary_out is not None:
        summary_out.write_text(report.summary, encoding="utf-8")
    lines = [f"{r.entry}: {r.outcome.result.counts['passed']}/{len(r.outcome.result.results)} "
             f"passed (report: {r.outcome.report_dir / 'report.html'})" if r.outcome is not None
             else f"{r.entry}: stopped: {r.error}" for r in report.runs]
    lines += [f"REGRESSION {reg.drill}: {reg.message}" for reg in report.regressions]
    lines += [f"history: {report.pruned} old run(s) pruned (keeping {sched.keep} per drill)",
              "summary posted" if report.posted else "summary not posted"]
    emit(as_json, {
        "runs": [{"entry": r.entry, "error": str(r.error) if r.outcome is None else None,
                  "result": r.outcome.result.to_dict() if r.outcome is not None else None,
                  "report_dir": str(r.outcome.report_dir) if r.outcome is not None else None}
                 for r in report.runs],
        "regressions": [{"drill": reg.drill, "message": reg.message} for reg in report.regressions],
        "pruned": report.pruned, "posted": report.posted, "passed": report.passed},
        "\n".join(lines))
    if report.error is not None:
        raise report.error
    raise typer.Exit(0 if report.passed else 1)
