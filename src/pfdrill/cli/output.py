"""How pfdrill's commands print: lines for people, or with ``--json`` one JSON document.

Every command that prints a result takes ``--json`` (``tests/unit/test_cli_json.py``
holds them to it): scripts and CI read the document, people read the lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import typer

JsonOpt = typer.Option(False, "--json", help="Print JSON.")


def emit(as_json: bool, data: object, text: str | Callable[[], None]) -> None:
    """Print ``data`` as JSON, or ``text`` (a string, or a function that prints)."""
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    elif callable(text):
        text()
    else:
        typer.echo(text)
