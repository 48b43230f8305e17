"""``pfdrill fabric``: command group (filled in by the issue that owns it)."""

from __future__ import annotations

import typer

app = typer.Typer(help="fabric commands.", no_args_is_help=True)
