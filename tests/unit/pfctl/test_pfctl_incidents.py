"""The incident store and what is made from it: rows, .ics invitations, the post-mortem PDF."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.formats.instant import parse as parse_date
from pfdrill.pfctl import incidents
from pfdrill.pfctl.context import Context


def parse_ics(data: bytes) -> dict[str, str]:
    """A strict reading of the RFC 5545 subset pfctl writes: CRLF lines, folding, nesting."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    lines = unfolded.split("\r\n")[:-1]
    assert all(len(ln.encode()) <= 75 for ln in text.split("\r\n")), "unfolded long line"
    stack, props = [], {}
    for ln in lines:
        name, _, value = ln.partition(":")
        if name == "BEGIN":
            stack.append(value)
        elif name == "END":
            assert stack.pop() == value
        else:
            assert stack, f"property outside a component: {ln}"
            props[name] = value
    assert not stack
    for required in ("VERSION", "PRODID", "UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
        assert required in props, required
    return props


def ics_time(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


def test_an_incident_is_declared_updated_and_resolved(ctx: Context) -> None:
    assert incidents.create(ctx, "sev1", "Policy enforcement failure detected", "INC-1") == "INC-1"
    incidents.update(ctx, "INC-1", status="identified", root_cause="adapter failed open")
    incidents.update(ctx, "INC-1", status="resolved", resolution="restored")
    record = ctx.store.incident_record("INC-1")
    assert (record.severity, record.status, record.root_cause) == ("SEV-1", "resolved",
                                                                   "adapter failed open")
    assert record.resolved_wall is not None
    kinds = [e.kind for e in ctx.store.events("INC-1")]
    assert kinds == ["declared", "status", "root_cause", "status", "resolution"]


def test_the_id_comes_from_the_option_the_environment_or_is_generated(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENT_ID", "INC-ENV")
    assert incidents.create(ctx, "SEV-2", "d", None) == "INC-ENV"
    monkeypatch.delenv("INCIDENT_ID")
    generated = incidents.create(ctx, "SEV-2", "d", None)
    assert re.fullmatch(r"INC-\d{8}-[0-9A-F]{4}", generated)


@pytest.mark.parametrize("args, message", [
    (("SEV-9", "d", "I"), "unknown severity 'SEV-9'"),
    (("none", "d", "I"), "not an incident"),
    (("SEV-1", " ", "I"), "--description must not be empty"),
    (("SEV-1", "d", "--date"), "is not an incident id (is $INCIDENT_ID empty?)"),
])
def test_bad_declarations(ctx: Context, args: tuple[str, str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        incidents.create(ctx, *args)


def test_a_duplicate_or_unknown_incident_is_refused(ctx: Context) -> None:
    incidents.create(ctx, "SEV-1", "d", "INC-1")
    with pytest.raises(InvalidInput, match="already exists"):
        incidents.create(ctx, "SEV-1", "d", "INC-1")
    with pytest.raises(InvalidInput, match=r"INC-2 does not exist \(known: INC-1\)"):
        incidents.update(ctx, "INC-2", status="resolved")
    with pytest.raises(InvalidInput, match="is not one of open"):
        incidents.update(ctx, "INC-1", status="fixed")


def test_the_postmortem_invitation_is_a_valid_calendar_event(ctx: Context) -> None:
    incidents.create(ctx, "SEV-1", "Policy enforcement failure, commas; and \\ backslashes"
                     " and a description long enough to need folding in the calendar file", "INC-1")
    r = incidents.schedule_postmortem(ctx, "INC-1", "Tue Dec  1 14:30:00 UTC 2026", "90m", None)
    path = Path(r["calendar"])
    assert path == ctx.cwd / "postmortem-INC-1.ics"
    props = parse_ics(path.read_bytes())
    assert ics_time(props["DTSTART"]) == dt.datetime(2026, 12, 1, 14, 30, tzinfo=dt.UTC)
    assert ics_time(props["DTEND"]) - ics_time(props["DTSTART"]) == dt.timedelta(minutes=90)
    assert props["SUMMARY"] == "Post-mortem: incident INC-1 (SEV-1)"
    assert "failure\\, commas\\; and \\\\ backslashes" in props["DESCRIPTION"]
    row = ctx.store.query("SELECT * FROM postmortems WHERE incident_id = 'INC-1'")[0]
    assert row["scheduled_for"] == "2026-12-01T14:30:00+00:00"


def test_a_meeting_invitation(ctx: Context) -> None:
    r = incidents.schedule_meeting(ctx, "Incident INC-1 Follow-up", "2026-12-08 10:00", "30m", None)
    props = parse_ics(Path(r["calendar"]).read_bytes())
    assert props["SUMMARY"] == "Incident INC-1 Follow-up"
    assert Path(r["calendar"]).name == "meeting-incident-inc-1-follow-up.ics"
    assert ctx.store.query("SELECT topic FROM meetings")[0]["topic"] == "Incident INC-1 Follow-up"


def test_the_postmortem_pdf_has_the_timeline(ctx: Context, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    incidents.create(ctx, "SEV-1", "Policy enforcement failure detected", "INC-1")
    ctx.store.add_status("investigating", "looking", "INC-1")
    incidents.update(ctx, "INC-1", status="resolved", resolution="restored")
    timeline = tmp_path / "timeline.jsonl"
    now = dt.datetime.now(dt.UTC)
    timeline.write_text("".join(json.dumps(
        {"at": (now + dt.timedelta(seconds=i)).isoformat(), "kind": "runbook", "section": "S",
         "what": f"command {i}", "outcome": "ok" if i % 3 else "failed", "incident_id": "INC-1"})
        + "\n" for i in range(60)))
    monkeypatch.setenv("PFCTL_TIMELINE", str(timeline))
    out = tmp_path / "pm.pdf"
    r = incidents.prepare_postmortem(ctx, "INC-1", out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages == r["pages"] == 4  # summary, timeline chart, two pages of entries
    assert r["runbook_commands"] == 60
    assert ctx.store.incident_record("INC-1").postmortem_document == str(out)
    with pytest.raises(InvalidInput, match="is a PDF"):
        incidents.prepare_postmortem(ctx, "INC-1", tmp_path / "pm.docx")


@pytest.mark.parametrize("text, expected", [
    ("Tue Dec  1 14:30:00 UTC 2026", dt.datetime(2026, 12, 1, 14, 30, tzinfo=dt.UTC)),
    ("2026-12-01T14:30:00+01:00", dt.datetime(2026, 12, 1, 13, 30, tzinfo=dt.UTC)),
    ("2026-12-01", dt.datetime(2026, 12, 1, tzinfo=dt.UTC)),
])
def test_dates_as_runbooks_write_them(text: str, expected: dt.datetime) -> None:
    assert parse_date(text) == expected


def test_a_date_that_is_not_one() -> None:
    with pytest.raises(InvalidInput, match="is not a date"):
        parse_date("next tuesday")


def test_an_incident_id_ending_in_a_newline_is_refused() -> None:
    # a regex `$` matches before a final newline: "INC-1\n" would have named a file
    from pfdrill.pfctl.store import check_incident_id
    assert check_incident_id("INC-1") == "INC-1"
    with pytest.raises(InvalidInput, match="is not an incident id"):
        check_incident_id("INC-1\n")
