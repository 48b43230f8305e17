"""``pfdrill init``: scaffold a team's drill repository (parse, delegate, print)."""

from __future__ import annotations

from pathlib import Path

import typer

from pfdrill.cli.output import JsonOpt, emit


def init(directory: Path = typer.Argument(Path("."), help="Where the repository goes "
                                          "(created if missing)."),
         force: bool = typer.Option(False, "--force", help="Overwrite files that exist."),
         as_json: bool = JsonOpt) -> None:
    """Scaffold a drill repository (suite, runbook, features, pfdrill.yaml, CI) and validate it."""
    from pfdrill.cli.drill import validated
    from pfdrill.scaffold import repository

    written = repository.write(directory, repository.plan(), force=force)
    suite = validated(directory / repository.SUITE)
    emit(as_json, {"directory": str(directory), "suite": suite.name,
                   "files": [p.relative_to(directory).as_posix() for p in written]},
         f"wrote {len(written)} files into {directory}; {repository.SUITE}: suite "
         f"{suite.name!r}, {len(suite.drills)} drill(s) valid\n"
         f"next: cd {directory} && pfdrill drill run {repository.SUITE}")
