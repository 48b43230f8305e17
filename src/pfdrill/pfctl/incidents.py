"""``pfctl incident ...`` and ``pfctl meeting schedule``: the incident record and its follow-ups."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.formats import duration as durations
from pfdrill.formats import instant
from pfdrill.model.severity import Severity
from pfdrill.pfctl import ics, postmortem
from pfdrill.pfctl.context import Context
from pfdrill.pfctl.store import check_incident_id


def create(ctx: Context, severity: str, description: str, incident_id: str | None) -> str:
    try:
        sev = Severity.parse(severity)
    except ValueError as exc:
        raise InvalidInput(f"--severity: {exc}") from None
    if sev is Severity.NONE:
        raise InvalidInput("--severity none is not an incident")
    if not description.strip():
        raise InvalidInput("--description must not be empty")
    chosen = incident_id or os.environ.get("INCIDENT_ID") or (
        f"INC-{dt.datetime.now(dt.UTC):%Y%m%d}-{secrets.token_hex(2).upper()}")
    ctx.store.create_incident(check_incident_id(chosen), sev.value, description.strip())
    return chosen


def update(ctx: Context, incident_id: str, **fields: str | None) -> list[str]:
    if fields.get("severity") is not None:
        try:
            fields["severity"] = Severity.parse(str(fields["severity"])).value
        except ValueError as exc:
            raise InvalidInput(f"--severity: {exc}") from None
    return ctx.store.update_incident(check_incident_id(incident_id), **fields)


def schedule_postmortem(ctx: Context, incident_id: str, date: str, duration: str,
                        output: Path | None) -> dict[str, Any]:
    row = ctx.store.incident(check_incident_id(incident_id))
    when = instant.parse(date)
    length = dt.timedelta(seconds=durations.seconds(duration, words=True, what="--duration"))
    path = output or ctx.path(f"postmortem-{incident_id}.ics")
    text = ics.event(f"Post-mortem: incident {incident_id} ({row['severity']})", when, length,
                     f"{row['description']}\nStatus: {row['status']}")
    ics.write(path, text)
    ctx.store.schedule_postmortem(incident_id, when.isoformat(), str(path))
    return {"incident": incident_id, "when": when.isoformat(), "calendar": str(path)}


def prepare_postmortem(ctx: Context, incident_id: str, output: Path) -> dict[str, Any]:
    row = ctx.store.incident(check_incident_id(incident_id))
    if output.suffix.lower() != ".pdf":
        raise InvalidInput(f"--output {output.name!r}: the post-mortem pack is a PDF (.pdf)")
    timeline = os.environ.get("PFCTL_TIMELINE")
    commands = postmortem.runbook_events(Path(timeline) if timeline else None, incident_id)
    pages = postmortem.render(output, dict(row), ctx.store.events(incident_id), commands)
    ctx.store.postmortem_prepared(incident_id, str(output))
    return {"incident": incident_id, "document": str(output), "pages": pages,
            "events": len(ctx.store.events(incident_id)), "runbook_commands": len(commands)}


def schedule_meeting(ctx: Context, topic: str, date: str, duration: str,
                     output: Path | None) -> dict[str, Any]:
    if not topic.strip():
        raise InvalidInput("--topic must not be empty")
    when = instant.parse(date)
    path = output or ctx.path(f"meeting-{ics.slug(topic)}.ics")
    length = dt.timedelta(seconds=durations.seconds(duration, words=True, what="--duration"))
    ics.write(path, ics.event(topic, when, length))
    ctx.store.add_meeting(topic, when.isoformat(), str(path))
    incident = ctx.incident_or_latest(None)
    if incident:
        try:
            ctx.store.add_event(ctx.store.incident(incident)["id"], "meeting", topic)
        except InvalidInput:
            pass
    return {"topic": topic, "when": when.isoformat(), "calendar": str(path)}
