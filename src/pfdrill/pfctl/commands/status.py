"""``pfctl status`` and ``pfctl status update``."""

from __future__ import annotations

import typer

from pfdrill.pfctl import status as status_lib
from pfdrill.pfctl.commands.common import EnvOpt, check_format, ctx, emit

app = typer.Typer(help="Fabric status, and the status page.", invoke_without_command=True,
                  no_args_is_help=False)


@app.callback()
def show(click_ctx: typer.Context, env: str | None = EnvOpt,
         fmt: str = typer.Option("text", "--format", help="text, json or yaml.")) -> None:
    """Enforcement mode, replicas, DFA, trust bundle, open incident, status page."""
    if click_ctx.invoked_subcommand is not None:
        return
    chosen = check_format(fmt)
    emit(status_lib.show(ctx(env)), chosen)


@app.command("update")
def update(status: str = typer.Option(..., "--status", help=", ".join(status_lib.STATUSES)),
           message: str = typer.Option("", "--message"),
           incident_id: str | None = typer.Option(None, "--incident-id"),
           env: str | None = EnvOpt) -> None:
    """Post a status-page update (stored, and sent to the sink's /statuspage)."""
    result = status_lib.update(ctx(env), status, message, incident_id)
    typer.echo(f"status page: {result['status']}"
               + (f" — {result['message']}" if result["message"] else "")
               + (f" (incident {result['incident_id']})" if result["incident_id"] else ""))
