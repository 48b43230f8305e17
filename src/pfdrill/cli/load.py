"""``pfdrill load``: command group (filled in by the issue that owns it)."""

from __future__ import annotations

import typer

app = typer.Typer(help="load commands.", no_args_is_help=True)
