"""``pfdrill report``: show a drill run's report (parse, delegate, print)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Show drill reports (reports/<run-id>/).", no_args_is_help=True)


@app.command("show")
def show(run: str | None = typer.Argument(None, help="Run id (or a unique prefix, or a "
                                          "report directory); default: the latest."),
         reports: Path = typer.Option(Path("reports"), "--reports", help="Reports root."),
         paths: bool = typer.Option(False, "--paths", help="Print only the report files.")
         ) -> None:
    """Print a run's summary and where its four report files are."""
    from pfdrill.report import bundle, markdown, runs

    directory = runs.find(reports, run)
    if paths:
        for name in ("report.html", "junit.xml", "summary.md", bundle.EVIDENCE, bundle.SUMS):
            typer.echo(str(directory / name))
        return
    result = runs.load(directory)
    typer.echo(markdown.render(result, str(directory)).rstrip())
    raise typer.Exit(0 if result.passed else 1)


@app.command("list")
def list_runs(reports: Path = typer.Option(Path("reports"), "--reports", help="Reports root.")
              ) -> None:
    """List past runs, oldest first."""
    from pfdrill.report import runs

    for directory in runs.runs(reports):
        result = runs.load(directory)
        c = result.counts
        typer.echo(f"{directory.name}  {result.suite:<12} {c['passed']}/{len(result.results)} "
                   f"passed")
