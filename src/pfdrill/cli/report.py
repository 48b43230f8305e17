"""``pfdrill report``: show a drill run's report (parse, delegate, print)."""

from __future__ import annotations

from pathlib import Path

import typer

from pfdrill.cli.output import JsonOpt, emit

app = typer.Typer(help="Show drill reports (reports/<run-id>/).", no_args_is_help=True)


@app.command("show")
def show(run: str | None = typer.Argument(None, help="Run id (or a unique prefix, or a "
                                          "report directory); default: the latest."),
         reports: Path = typer.Option(Path("reports"), "--reports", help="Reports root."),
         paths: bool = typer.Option(False, "--paths", help="Print only the report files."),
         as_json: bool = typer.Option(False, "--json", help="Print the run's result as JSON "
                                      "(with --paths: the file list).")) -> None:
    """Print a run's summary and where its four report files are."""
    from pfdrill.report import bundle, markdown, runs

    directory = runs.find(reports, run)
    files = [str(directory / name) for name in
             ("report.html", "junit.xml", "summary.md", bundle.EVIDENCE, bundle.SUMS)]
    if paths:
        emit(as_json, files, "\n".join(files))
        return
    result = runs.load(directory)
    emit(as_json, {**result.to_dict(), "report_dir": str(directory), "files": files},
         markdown.render(result, str(directory)).rstrip())
    raise typer.Exit(0 if result.passed else 1)


@app.command("list")
def list_runs(reports: Path = typer.Option(Path("reports"), "--reports", help="Reports root."),
              as_json: bool = JsonOpt) -> None:
    """List past runs, oldest first."""
    from pfdrill.report import runs

    rows = [(d, runs.load(d)) for d in runs.runs(reports)]
    emit(as_json, [{"run_id": d.name, "suite": r.suite, "passed": r.counts["passed"],
                    "drills": len(r.results), "report_dir": str(d)} for d, r in rows],
         "\n".join(f"{d.name}  {r.suite:<12} {r.counts['passed']}/{len(r.results)} passed"
                   for d, r in rows))
