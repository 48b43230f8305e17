"""The sink journal: bodies verbatim, append-only, a torn tail survives, filters work."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pfdrill.errors import InvalidInput
from pfdrill.model.detection import Channel, SinkRequest
from pfdrill.sink import baselines, journal

RUNBOOK_SLACK = '{"text":"ğŸš¨ SEV-1 Policy Enforcement Incident Declared"}'
RUNBOOK_TEAM = ('{"text":"ğŸ“‹ Incident $INCIDENT_ID Update\\n\\n- Status: Resolved\\n'
                '- Post-mortem: $(date -d +2 days)\\n- Next steps: Process improvements"')


def _append(writer: journal.JournalWriter, path: str, body: bytes, at: float) -> SinkRequest:
    return writer.append(method="POST", path=path, query="", content_type="application/json",
                         raw=body, received_at=at)


def test_records_keep_bodies_json_or_not(tmp_path: Path) -> None:
    writer = journal.JournalWriter(tmp_path / "j.jsonl")
    a = _append(writer, "/slack", RUNBOOK_SLACK.encode(), 10.0)
    b = _append(writer, "/team", RUNBOOK_TEAM.encode(), 11.0)
    c = _append(writer, "/security", b"\xffnot utf-8", 12.0)
    writer.close()
    assert (a.json, a.json_error) == ({"text": "ğŸš¨ SEV-1 Policy Enforcement Incident Declared"}, None)
    assert b.json is None and b.json_error and b.body == RUNBOOK_TEAM
    assert c.body_b64 is not None and base64.b64decode(c.body_b64) == b"\xffnot utf-8"
    assert journal.read(tmp_path / "j.jsonl") == [a, b, c]
    assert [n.channel for n in (a, b, c)] == [Channel.SLACK, Channel.TEAM, Channel.SECURITY]


def test_filters_by_channel_time_and_path(tmp_path: Path) -> None:
    writer = journal.JournalWriter(tmp_path / "j.jsonl")
    for i, where in enumerate(["/alertmanager/sev-1", "/slack", "/alertmanager/sev-3", "/nowhere"]):
        _append(writer, where, b"{}", 100.0 + i)
    writer.close()
    path = tmp_path / "j.jsonl"
    assert [n.path for n in journal.read(path, channel=Channel.ALERTMANAGER)] == [
        "/alertmanager/sev-1", "/alertmanager/sev-3"]
    assert [n.seq for n in journal.read(path, since=101.5)] == [3, 4]
    assert [n.channel for n in journal.read(path, path_prefix="/now")] == [Channel.OTHER]


def test_a_torn_last_line_is_skipped_then_cut_by_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    writer = journal.JournalWriter(path)
    _append(writer, "/slack", b"one", 1.0)
    writer.close()
    with path.open("ab") as fh:  # a crash in the middle of the second write
        fh.write(b'{"seq": 2, "received_at": 2.0, "meth')
    assert [n.body for n in journal.read(path)] == ["one"]
    writer = journal.JournalWriter(path)
    third = _append(writer, "/slack", b"two", 3.0)
    writer.close()
    assert third.seq == 2
    assert [n.body for n in journal.read(path)] == ["one", "two"]
    assert path.read_bytes().count(b"\n") == 2


def test_a_damaged_record_in_the_middle_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps({"seq": 1}) + "\n")
    with pytest.raises(InvalidInput, match=rf"^{path}:1: not a sink journal record"):
        journal.read(path)


def test_alertmanager_bodies_yield_their_alerts(tmp_path: Path) -> None:
    writer = journal.JournalWriter(tmp_path / "j.jsonl")
    body = {"status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "X", "severity": "SEV-1"},
         "startsAt": "2026-11-28T12:00:00Z"},
        {"status": "resolved", "labels": {"alertname": "Y", "severity": "SEV-3"}}]}
    record = _append(writer, "/alertmanager/sev-1", json.dumps(body).encode(), 5.0)
    slack = _append(writer, "/slack", json.dumps(body).encode(), 6.0)
    writer.close()
    assert [(a.alertname, a.status, a.severity) for a in record.alerts()] == [
        ("X", "firing", "SEV-1"), ("Y", "resolved", "SEV-3")]
    assert slack.alerts() == ()
    assert SinkRequest.from_dict(record.to_dict()) == record


def test_baselines_validate_persist_and_expose(tmp_path: Path) -> None:
    store = baselines.BaselineStore(tmp_path / "b.json")
    assert store.update({"reject_rate": 2, "latency_mean_seconds": 0.005}) == {
        "reject_rate": 2.0, "latency_mean_seconds": 0.005}
    assert baselines.BaselineStore(tmp_path / "b.json").values() == store.values()
    assert store.update({"reject_rate": None}) == {"latency_mean_seconds": 0.005}
    text = store.exposition()
    assert 'pfdrill_baseline{signal="latency_mean_seconds"} 0.005' in text
    assert "# TYPE pfdrill_baseline gauge" in text
    (family,) = text_string_to_metric_families(text)
    assert [(s.labels, s.value) for s in family.samples] == [({"signal": "latency_mean_seconds"}, 0.005)]
    for bad, message in (({"latency": 1}, "unknown baseline signal 'latency'"),
                         ({"reject_rate": -1}, "must be >= 0"),
                         ({"latency_mean_seconds": 0}, "must be > 0"),
                         ({"reject_rate": True}, "finite number"),
                         ({"reject_rate": float("inf")}, "finite number")):
        with pytest.raises(InvalidInput, match=message):
            store.update(bad)
    assert store.values() == {"latency_mean_seconds": 0.005}
