"""``pfdrill init``: scaffold a team's drill repository (parse, delegate, print)."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def init(directory: Path = typer.Argument(Path("."), help="Where the repository goes "
                                          "(created if missing)."),
         force: bool = typer.Option(False, "--force", help="Overwrite files that exist."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Scaffold a drill repository (suite, runbook, features, pfdrill.yaml, CI) and validate it."""
    from pfdrill.cli.drill import validated
    from pfdrill.scaffold import repository

    written = repository.write(directory, repository.plan(), force=force)
    suite = validated(directory / repository.SUITE)
    if as_json:
        typer.echo(json.dumps({"directory": str(directory), "files": [
            str(p.relative_to(directory)) for p in written], "suite": suite.name}, indent=2))
        return
    typer.echo(f"wrote {len(written)} files into {directory}; {repository.SUITE}: suite "
               f"{suite.name!r}, {len(suite.drills)} drill(s) valid")
    typer.echo(f"next: cd {directory} && pfdrill drill run {repository.SUITE}")
