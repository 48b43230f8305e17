"""Options and output helpers every pfctl command module shares."""

from __future__ import annotations

import json
from typing import Any

import typer

from pfdrill.pfctl import context

EnvOpt = typer.Option(None, "--env", help="Environment from $PFCTL_CONFIG (default: its default).")


def ctx(env: str | None) -> context.Context:
    return context.from_config(env)


def emit(doc: Any, fmt: str = "json") -> None:
    if fmt == "json":
        typer.echo(json.dumps(doc, indent=2, sort_keys=True, default=str, ensure_ascii=False))
    elif fmt == "yaml":
        import yaml

        typer.echo(yaml.safe_dump(doc, sort_keys=True, allow_unicode=True).rstrip())
    else:
        for k, v in doc.items() if isinstance(doc, dict) else enumerate(doc):
            typer.echo(f"{k}: {v}")


def check_format(fmt: str, allowed: tuple[str, ...] = ("json", "yaml", "text")) -> str:
    if fmt not in allowed:
        raise typer.BadParameter(f"{fmt!r} is not one of {', '.join(allowed)}",
                                 param_hint="--format")
    return fmt
