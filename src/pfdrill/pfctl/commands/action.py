"""``pfctl action add|list|close``: follow-up action items in the incident store."""

from __future__ import annotations

import getpass

import typer

from pfdrill.history.actions import ActionRegister
from pfdrill.pfctl.commands.common import EnvOpt, check_format, ctx, emit
from pfdrill.pfctl.store import DB_FILE

app = typer.Typer(help="Follow-up action items (game days, post-mortems).", no_args_is_help=True)


def _register(env: str | None) -> ActionRegister:
    return ActionRegister(ctx(env).state_dir / DB_FILE)


@app.command("add")
def add(title: str = typer.Option(..., "--title"), owner: str = typer.Option(..., "--owner"),
        due: str = typer.Option(..., "--due", help="YYYY-MM-DD."),
        source: str = typer.Option("", "--source", help="e.g. gameday:<id> or an incident id."),
        env: str | None = EnvOpt) -> None:
    """Record a follow-up with an owner and a due date; prints its id."""
    typer.echo(_register(env).add(title, owner, due, source=source).id)


@app.command("list")
def list_items(source: str | None = typer.Option(None, "--source"),
               fmt: str = typer.Option("text", "--format", help="text or json."),
               env: str | None = EnvOpt) -> None:
    """Action items and their state."""
    items = _register(env).items(source)
    if check_format(fmt, ("text", "json")) == "json":
        emit([i.to_dict() for i in items])
        return
    for i in items:
        typer.echo(f"{i.id}  {i.status:<6}  due {i.due}  {i.owner}: {i.title}")


@app.command("close")
def close(item_id: str = typer.Argument(..., help="e.g. AI-3."),
          resolution: str = typer.Option("", "--resolution", help="What was done."),
          by: str = typer.Option("", "--by", help="Who closes it (default: $USER)."),
          env: str | None = EnvOpt) -> None:
    """Close a follow-up: the after-action report shows it done."""
    item = _register(env).close(item_id, by=by or getpass.getuser(), resolution=resolution)
    typer.echo(f"{item.id} closed by {item.closed_by} at {item.closed_wall}")
