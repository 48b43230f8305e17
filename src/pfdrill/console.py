"""console: run a Typer app and map pfdrill errors to one-line messages and exit codes.

Shared by ``pfdrill`` and ``pfctl`` so that both CLIs report errors the same way.
"""

from __future__ import annotations

import sys

import click
import typer

from pfdrill.errors import PfdrillError


def run(app: typer.Typer, argv: list[str] | None = None, prog: str = "pfdrill") -> int:
    """Run a Typer app and map errors to exit codes; shared by ``pfdrill`` and ``pfctl``."""
    try:
        result = app(args=argv, prog_name=prog, standalone_mode=False)
    except PfdrillError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Abort:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.ClickException as exc:
        msg = exc.format_message()
        ctx = getattr(exc, "ctx", None)
        where = f" ({ctx.command_path})" if ctx is not None else ""
        print(f"{prog}: error{where}: {msg}", file=sys.stderr)
        return 2
    return int(result) if isinstance(result, int) else 0
