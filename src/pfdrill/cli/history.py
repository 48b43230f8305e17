"""``pfdrill history``: per-drill trends and regressions from past runs (parse, delegate, print)."""

from __future__ import annotations

import json

import typer

app = typer.Typer(help="Per-drill trends (MTTD, MTTR, pass/fail) and regressions.",
                  invoke_without_command=True)


@app.callback()
def history(drill: str | None = typer.Option(None, "--drill", help="Only this drill."),
            last: int = typer.Option(10, "--last", min=1, help="Runs per drill to consider."),
            as_json: bool = typer.Option(False, "--json", help="Print JSON."),
            fail_on_regression: bool = typer.Option(
                False, "--fail-on-regression", help="Exit 1 when a regression is flagged.")
            ) -> None:
    """Show how each drill did over its last N runs and flag regressions."""
    from pfdrill.history import store, trend
    from pfdrill.settings.paths import Paths

    db = store.HistoryStore(Paths.from_env().state / store.FILENAME)
    trends = trend.trends(db.rows(drill=drill, last=last))
    if as_json:
        typer.echo(json.dumps([t.to_dict() for t in trends], indent=1))
    else:
        typer.echo(trend.table(trends))
    if fail_on_regression and any(t.regressions for t in trends):
        raise typer.Exit(1)
