"""``pfdrill fault``: command group (filled in by the issue that owns it)."""

from __future__ import annotations

import typer

app = typer.Typer(help="fault commands.", no_args_is_help=True)
