"""The responders' incident store and audit journal, as the game day reads them — also after a restart."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pfdrill.gameday.workspace import CommandPoller, IncidentLog, IncidentPoller
from pfdrill.model.live import Source
from pfdrill.pfctl.store import Store


def test_declarations_and_store_updates(tmp_path: Path) -> None:
    store = Store(tmp_path)
    db = tmp_path / "pfctl.db"
    log, poller = IncidentLog(db), IncidentPoller(db)
    assert log.declared(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) == []
    assert poller.poll(0.0) == []
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    store.create_incident("INC-1", "SEV-2", "adapter down")
    store.update_incident("INC-1", severity="SEV-1")
    (found,) = log.declared(before)
    assert (found.incident_id, found.severity, found.status) == ("INC-1", "SEV-1", "open")
    assert log.declared(before + dt.timedelta(hours=1)) == []
    seen = poller.poll(0.0)
    assert [o.message for o in seen] == ["incident INC-1: declared SEV-2: adapter down",
                                         "incident INC-1: severity SEV-1"]
    assert {o.source for o in seen} == {Source.INCIDENTS}
    store.update_incident("INC-1", status="mitigated")
    # a restarted game day's poller goes on after what was reported
    again = IncidentPoller(db, seen=len(seen))
    assert [o.message for o in again.poll(0.0)] == ["incident INC-1: status mitigated"]
    assert poller.poll(0.0)[0].message == "incident INC-1: status mitigated"


def test_responder_commands_from_the_audit_journal(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    start = {"phase": "start", "tool": "kubectl", "argv": ["get", "pods"], "pid": 1,
             "started": "2026-01-05T09:00:00+00:00"}
    ends = [{"phase": "end", "tool": "kubectl", "argv": ["scale", "deployment", "x",
                                                         "--replicas=0"], "rc": 0,
             "started": "2026-01-05T09:00:01+00:00"},
            {"phase": "end", "tool": "curl", "argv": ["-X", "POST", "$SECURITY_WEBHOOK"],
             "rc": 22, "started": "2026-01-05T09:00:02+00:00"}]
    audit.write_text("".join(json.dumps(r) + "\n" for r in (start, *ends)))
    poller = CommandPoller(audit)
    seen = poller.poll(0.0)
    assert [(o.subject, o.message, o.level) for o in seen] == [
        ("kubectl", "kubectl scale deployment x --replicas=0 → exit 0", "info"),
        ("curl", "curl -X POST $SECURITY_WEBHOOK → exit 22", "warning")]
    with audit.open("a") as fh:
        fh.write('{"phase": "end", "tool": "pfctl", "argv": ["status"], "rc": 0')  # mid-line
    assert poller.poll(0.0) == []
    with audit.open("a") as fh:
        fh.write(', "started": "2026-01-05T09:00:03+00:00"}\n')
    assert [o.subject for o in poller.poll(0.0)] == ["pfctl"]
    assert [o.subject for o in CommandPoller(audit, seen=2).poll(0.0)] == ["pfctl"]
