"""``pfctl incident create|update|schedule-postmortem|prepare-postmortem|show`` and ``pfctl meeting``."""

from __future__ import annotations

from pathlib import Path

import typer

from pfdrill.pfctl import incidents
from pfdrill.pfctl.commands.common import EnvOpt, ctx, emit

app = typer.Typer(help="The incident store.", no_args_is_help=True)
meeting = typer.Typer(help="Meetings (.ics invitations).", no_args_is_help=True)
IdOpt = typer.Option(..., "--incident-id", help="Incident id (e.g. $INCIDENT_ID).")


@app.command("create")
def create(severity: str = typer.Option(..., "--severity", help="SEV-1 .. SEV-4."),
           description: str = typer.Option(..., "--description"),
           incident_id: str | None = typer.Option(None, "--incident-id",
                                                  help="Default: $INCIDENT_ID, else generated."),
           env: str | None = EnvOpt) -> None:
    """Declare an incident; prints its id."""
    typer.echo(incidents.create(ctx(env), severity, description, incident_id))


@app.command("update")
def update(incident_id: str = IdOpt,
           status: str | None = typer.Option(None, "--status"),
           resolution: str | None = typer.Option(None, "--resolution"),
           severity: str | None = typer.Option(None, "--severity"),
           root_cause: str | None = typer.Option(None, "--root-cause"),
           env: str | None = EnvOpt) -> None:
    """Change an incident's status, resolution, severity or root cause."""
    changed = incidents.update(ctx(env), incident_id, status=status, resolution=resolution,
                               severity=severity, root_cause=root_cause)
    typer.echo(f"incident {incident_id}: " + ", ".join(changed))


@app.command("schedule-postmortem")
def schedule_postmortem(incident_id: str = IdOpt,
                        date: str = typer.Option(..., "--date"),
                        duration: str = typer.Option("60m", "--duration"),
                        output: Path | None = typer.Option(None, "--output", help=".ics file."),
                        env: str | None = EnvOpt) -> None:
    """Schedule the post-mortem (store row and .ics invitation)."""
    r = incidents.schedule_postmortem(ctx(env), incident_id, date, duration, output)
    typer.echo(f"post-mortem for {r['incident']} at {r['when']}: {r['calendar']}")


@app.command("prepare-postmortem")
def prepare_postmortem(incident_id: str = IdOpt,
                       output: Path = typer.Option(..., "--output", help="PDF to write."),
                       env: str | None = EnvOpt) -> None:
    """Write the post-mortem PDF: summary, timeline chart, timeline entries."""
    r = incidents.prepare_postmortem(ctx(env), incident_id, output)
    typer.echo(f"{r['document']}: {r['pages']} pages, {r['events']} events, "
               f"{r['runbook_commands']} runbook commands")


@app.command("show")
def show(incident_id: str = IdOpt, env: str | None = EnvOpt) -> None:
    """The incident and its timeline as JSON."""
    c = ctx(env)
    emit({"incident": c.store.incident_record(incident_id).to_dict(),
          "events": [e.to_dict() for e in c.store.events(incident_id)]})


@meeting.command("schedule")
def schedule(topic: str = typer.Option(..., "--topic"), date: str = typer.Option(..., "--date"),
             duration: str = typer.Option("30m", "--duration"),
             output: Path | None = typer.Option(None, "--output", help=".ics file."),
             env: str | None = EnvOpt) -> None:
    """Schedule a meeting: an .ics invitation and a store row."""
    r = incidents.schedule_meeting(ctx(env), topic, date, duration, output)
    typer.echo(f"meeting {r['topic']!r} at {r['when']}: {r['calendar']}")
