"""``pfctl``: the operator CLI the runbook calls. Parses, delegates, prints."""

from __future__ import annotations

import sys

import typer

from pfdrill.console import run

app = typer.Typer(name="pfctl", help="Provability Fabric operator CLI.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)


def main(argv: list[str] | None = None) -> int:
    return run(app, argv, prog="pfctl")


def entrypoint() -> None:
    sys.exit(main())
