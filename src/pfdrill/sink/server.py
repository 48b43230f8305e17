"""The notification sink's HTTP server.

Paths::

    POST|PUT /alertmanager/<receiver>   Alertmanager webhooks (one receiver per severity)
    POST|PUT /slack /security /stakeholder /team
                                        the runbook's $SLACK_WEBHOOK, $SECURITY_WEBHOOK, ...
    POST|PUT anything else              recorded as channel "other", answered 404
    GET      /metrics                   pfdrill_baseline{signal=...} for Prometheus
    GET|PUT  /baselines                 read / set baselines as JSON {signal: value|null}
    GET      /records?channel=&since=   the journal, filtered, as a JSON list
    GET      /healthz                   "ok"

Every POST/PUT to a notification path is journaled (fsync'd) before it is
answered, bodies kept verbatim whether or not they are JSON.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.model.detection import Channel
from pfdrill.sink import baselines as baselines_mod
from pfdrill.sink import journal

MAX_BODY = 4 * 1024 * 1024
JOURNAL_FILE = "journal.jsonl"
BASELINES_FILE = "baselines.json"


@dataclasses.dataclass(frozen=True)
class SinkFiles:
    """Where one sink keeps its state."""

    directory: Path

    @property
    def journal(self) -> Path:
        return self.directory / JOURNAL_FILE

    @property
    def baselines(self) -> Path:
        return self.directory / BASELINES_FILE


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    writer: journal.JournalWriter
    store: baselines_mod.BaselineStore


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "pfdrill-sink"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the journal is the log; stderr stays quiet

    def _send(self, status: int, body: str | bytes, content_type: str = "application/json") -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: object) -> None:
        self._send(status, json.dumps(payload))

    def _body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._json(413, {"error": f"body larger than {MAX_BODY} bytes"})
            return None
        return self.rfile.read(length) if length > 0 else b""

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/healthz":
            self._send(200, "ok\n", "text/plain")
        elif url.path == "/metrics":
            self._send(200, self.server.store.exposition(), "text/plain; version=0.0.4")
        elif url.path == "/baselines":
            self._json(200, self.server.store.values())
        elif url.path == "/records":
            self._records(urllib.parse.parse_qs(url.query))
        else:
            self._json(404, {"error": f"no such path {url.path}"})

    def _records(self, query: dict[str, list[str]]) -> None:
        try:
            channel = Channel.parse(query["channel"][0]) if "channel" in query else None
            since = float(query["since"][0]) if "since" in query else None
        except ValueError as exc:
            self._json(400, {"error": str(exc)})
            return
        found = journal.read(self.server.writer.path, channel=channel, since=since)
        self._json(200, [n.to_dict() for n in found])

    def _notification(self) -> None:
        received = time.time()  # when the request arrived, before the body is read
        url = urllib.parse.urlsplit(self.path)
        raw = self._body()
        if raw is None:
            return
        record = self.server.writer.append(
            method=self.command, path=url.path, query=url.query,
            content_type=self.headers.get("Content-Type", ""), raw=raw, received_at=received,
        )
        if record.channel is Channel.OTHER:
            self._json(404, {"error": f"no channel at {url.path}", "seq": record.seq})
        else:
            self._json(200, {"ok": True, "seq": record.seq})

    def do_POST(self) -> None:
        self._notification()

    def do_PUT(self) -> None:
        if urllib.parse.urlsplit(self.path).path != "/baselines":
            self._notification()
            return
        raw = self._body()
        if raw is None:
            return
        try:
            values = json.loads(raw or b"{}")
            if not isinstance(values, dict):
                raise InvalidInput("baselines are a JSON object {signal: value|null}")
            self._json(200, self.server.store.update(values))
        except (ValueError, InvalidInput) as exc:
            self._json(400, {"error": str(exc)})


class SinkServer:
    """A running sink: bind at construction, serve in a thread or in the foreground."""

    def __init__(self, files: SinkFiles, host: str = "127.0.0.1", port: int = 0) -> None:
        files.directory.mkdir(parents=True, exist_ok=True)
        self.files = files
        self._httpd = _Server((host, port), _Handler)
        self._httpd.writer = journal.JournalWriter(files.journal)
        self._httpd.store = baselines_mod.BaselineStore(files.baselines)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()
            self._httpd.writer.close()

    def start(self) -> SinkServer:
        self._thread = threading.Thread(target=self.serve_forever, name="pfdrill-sink", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Make :meth:`serve_forever` return; call it from another thread."""
        self._httpd.shutdown()

    def stop(self) -> None:
        self.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SinkServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
