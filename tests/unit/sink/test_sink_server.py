"""The sink over real HTTP on 127.0.0.1: chunked bodies, kept-alive connections, 413 and 400.

A webhook sender (Alertmanager, curl, a Slack client library) may stream its
body with ``Transfer-Encoding: chunked`` and reuse the connection for the next
notification; the sink must journal the whole body and answer every request.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pfdrill.model.detection import Channel
from pfdrill.sink import journal
from pfdrill.sink.server import MAX_BODY, SinkFiles, SinkServer


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SinkServer]:
    with SinkServer(SinkFiles(tmp_path / "sink")) as server:
        yield server


@pytest.fixture
def conn(sink: SinkServer) -> Iterator[http.client.HTTPConnection]:
    host, port = sink.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        yield connection
    finally:
        connection.close()


def _send(conn: http.client.HTTPConnection, path: str, chunks: list[bytes] | bytes,
          content_type: str = "application/json", method: str = "POST") -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": content_type}
    if isinstance(chunks, list):
        conn.request(method, path, body=iter(chunks), headers=headers, encode_chunked=True)
    else:
        conn.request(method, path, body=chunks, headers=headers)
    response = conn.getresponse()
    payload = json.loads(response.read())
    assert isinstance(payload, dict)
    return response.status, payload


def test_chunked_bodies_are_journaled_and_the_connection_keeps_answering(
        sink: SinkServer, conn: http.client.HTTPConnection) -> None:
    firing = {"status": "firing", "alerts": [{"status": "firing",
                                              "labels": {"alertname": "X", "severity": "SEV-1"}}]}
    body = json.dumps(firing).encode()
    status, reply = _send(conn, "/alertmanager/sev-1", [body[:10], body[10:25], body[25:]])
    assert (status, reply) == (200, {"ok": True, "seq": 1})
    # The same connection, kept alive: a chunked plain-text body, then a Content-Length one.
    assert _send(conn, "/slack", [b"SEV-1 ", b"declared"], "text/plain") == (200, {"ok": True, "seq": 2})
    assert _send(conn, "/team", b'{"text": "update"}') == (200, {"ok": True, "seq": 3})
    records = journal.read(sink.files.journal)
    assert [(r.channel, r.body) for r in records] == [
        (Channel.ALERTMANAGER, body.decode()), (Channel.SLACK, "SEV-1 declared"),
        (Channel.TEAM, '{"text": "update"}')]
    assert records[0].json == firing and [a.alertname for a in records[0].alerts()] == ["X"]


def test_an_oversized_body_is_refused_with_413_and_not_journaled(
        sink: SinkServer, conn: http.client.HTTPConnection) -> None:
    status, reply = _send(conn, "/slack", [b"x" * (MAX_BODY // 2), b"y" * (MAX_BODY // 2 + 1)],
                          "text/plain")
    assert status == 413 and reply["error"] == f"body larger than {MAX_BODY} bytes"
    assert journal.read(sink.files.journal) == []


def test_an_alertmanager_webhook_that_is_not_a_json_object_is_a_400_on_the_record(
        sink: SinkServer, conn: http.client.HTTPConnection) -> None:
    status, reply = _send(conn, "/alertmanager/sev-2", [b"not ", b"json"])
    assert status == 400 and reply["seq"] == 1
    assert "an Alertmanager webhook is a JSON object" in str(reply["error"])
    status, reply = _send(conn, "/alertmanager/sev-2", b"[1, 2]")
    assert status == 400 and "not an object" in str(reply["error"])
    # The runbook's curl bodies are not all JSON: those channels keep taking anything.
    assert _send(conn, "/stakeholder", b"{broken", "text/plain") == (200, {"ok": True, "seq": 3})
    assert [r.body for r in journal.read(sink.files.journal)] == ["not json", "[1, 2]", "{broken"]


def test_bad_baselines_and_queries_are_400(sink: SinkServer, conn: http.client.HTTPConnection) -> None:
    status, reply = _send(conn, "/baselines", [b"{not json"], method="PUT")
    assert status == 400 and reply["error"]
    status, reply = _send(conn, "/baselines", [b'{"reject_rate": -1}'], method="PUT")
    assert status == 400 and "must be >= 0" in str(reply["error"])
    assert _send(conn, "/baselines", [b'{"reject_rate": 2}'], method="PUT") == (
        200, {"reject_rate": 2.0})
    conn.request("GET", "/records?channel=pager")
    response = conn.getresponse()
    assert response.status == 400 and "pager" in json.loads(response.read())["error"]
    conn.request("GET", "/records?since=yesterday")
    response = conn.getresponse()
    assert response.status == 400 and json.loads(response.read())["error"]
