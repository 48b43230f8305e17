"""cli: the ``pfdrill`` command. Parses arguments, delegates, prints.

No logic lives here: each command calls into a library package and renders
its result; :func:`pfdrill.console.run` turns a
:class:`~pfdrill.errors.PfdrillError` into a one-line message and an exit code.
"""

from __future__ import annotations

import importlib
import sys

import typer

from pfdrill.console import run

# (command group, module that defines ``app``): each module owns one noun.
GROUPS: tuple[tuple[str, str], ...] = (
    ("toolchain", "pfdrill.cli.toolchain"),
    ("cluster", "pfdrill.cli.cluster"),
    ("runtime", "pfdrill.cli.runtime"),
    ("fabric", "pfdrill.cli.fabric"),
    ("load", "pfdrill.cli.load"),
    ("sink", "pfdrill.cli.sink"),
    ("obs", "pfdrill.cli.obs"),
    ("alerts", "pfdrill.cli.alerts"),
    ("fault", "pfdrill.cli.fault"),
    ("runbook", "pfdrill.cli.runbook"),
    ("drill", "pfdrill.cli.drill"),
    ("sensitivity", "pfdrill.cli.sensitivity"),
    ("gameday", "pfdrill.cli.gameday"),
    ("dashboard", "pfdrill.cli.dashboard"),
    ("gate", "pfdrill.cli.gate"),
    ("report", "pfdrill.cli.report"),
    ("history", "pfdrill.cli.history"),
    ("schedule", "pfdrill.cli.schedule"),
)
# (command, module that defines a function of that name): commands that are not a group.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("init", "pfdrill.cli.init"),
    ("restore", "pfdrill.cli.restore"),
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="pfdrill",
        help="Chaos and incident drills for the Provability Fabric on Kubernetes.",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
    )

    @app.callback(invoke_without_command=True)
    def _root(
        ctx: typer.Context,
        version: bool = typer.Option(False, "--version", help="Print the version and exit."),
    ) -> None:
        if ctx.invoked_subcommand is None and not version:
            typer.echo(ctx.get_help())
            raise typer.Exit(2)
        if version:
            from pfdrill import __version__

            typer.echo(f"pfdrill {__version__}")
            raise typer.Exit(0)

    for name, module in GROUPS:
        sub = importlib.import_module(module).app
        app.add_typer(sub, name=name)
    for name, module in COMMANDS:
        app.command(name)(getattr(importlib.import_module(module), name))
    return app


def main(argv: list[str] | None = None) -> int:
    return run(build_app(), argv)


def entrypoint() -> None:
    sys.exit(main())
