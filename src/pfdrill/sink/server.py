"""The notification sink's HTTP server, on aiohttp (the HTTP stack the fabric serves with).

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
answered, bodies kept verbatim whether or not they are JSON, sent with a
``Content-Length`` or chunked, over a fresh or a kept-alive connection. What
the sink cannot take is answered with a JSON ``{"error": ...}``: 413 for a body
over :data:`MAX_BODY` (not journaled), 400 for ``/baselines`` or a query that
is not what it must be, and 400 for an Alertmanager webhook that is not a JSON
object (journaled as received, so the evidence shows what came).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
import time
from pathlib import Path

from aiohttp import web

from pfdrill.errors import InvalidInput
from pfdrill.model.detection import Channel, SinkRequest
from pfdrill.sink import baselines as baselines_mod
from pfdrill.sink import journal

MAX_BODY = 4 * 1024 * 1024
JOURNAL_FILE = "journal.jsonl"
BASELINES_FILE = "baselines.json"
WRITER = web.AppKey("writer", journal.JournalWriter)
STORE = web.AppKey("store", baselines_mod.BaselineStore)


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


def _json(status: int, payload: object) -> web.Response:
    return web.Response(status=status, text=json.dumps(payload), content_type="application/json")


async def _body(request: web.Request) -> bytes | web.Response:
    """The whole body, chunked or not; a 413 response when it is larger than MAX_BODY."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _json(413, {"error": f"body larger than {MAX_BODY} bytes"})


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n", content_type="text/plain")


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=request.app[STORE].exposition().encode("utf-8"),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def get_baselines(request: web.Request) -> web.Response:
    return _json(200, request.app[STORE].values())


async def put_baselines(request: web.Request) -> web.Response:
    raw = await _body(request)
    if isinstance(raw, web.Response):
        return raw
    try:
        values = json.loads(raw or b"{}")
        if not isinstance(values, dict):
            raise InvalidInput("baselines are a JSON object {signal: value|null}")
        return _json(200, request.app[STORE].update(values))
    except (ValueError, InvalidInput) as exc:
        return _json(400, {"error": str(exc)})


async def records(request: web.Request) -> web.Response:
    query = request.query
    try:
        channel = Channel.parse(query["channel"]) if "channel" in query else None
        since = float(query["since"]) if "since" in query else None
    except ValueError as exc:
        return _json(400, {"error": str(exc)})
    writer = request.app[WRITER]
    found = await asyncio.to_thread(journal.read, writer.path, channel=channel, since=since)
    return _json(200, [n.to_dict() for n in found])


def _refusal(record: SinkRequest) -> tuple[int, str] | None:
    """Why a journaled notification is answered with an error, if it is."""
    if record.channel is Channel.OTHER:
        return 404, f"no channel at {record.path}"
    if record.channel is Channel.ALERTMANAGER and not isinstance(record.json, dict):
        problem = record.json_error or ("an empty body" if not record.body.strip()
                                        else "JSON, but not an object")
        return 400, f"an Alertmanager webhook is a JSON object; got {problem}"
    return None


async def notification(request: web.Request) -> web.Response:
    received = time.time()  # when the request arrived, before the body is read
    raw = await _body(request)
    if isinstance(raw, web.Response):
        return raw
    url = request.rel_url
    # fsync in a worker thread: the event loop keeps serving while the disk catches up.
    record = await asyncio.to_thread(
        request.app[WRITER].append, method=request.method, path=url.raw_path,
        query=url.raw_query_string, content_type=request.headers.get("Content-Type", ""),
        raw=raw, received_at=received)
    refused = _refusal(record)
    if refused is not None:
        return _json(refused[0], {"error": refused[1], "seq": record.seq})
    return _json(200, {"ok": True, "seq": record.seq})


async def not_found(request: web.Request) -> web.Response:
    return _json(404, {"error": f"no such path {request.rel_url.raw_path}"})


def application(writer: journal.JournalWriter, store: baselines_mod.BaselineStore) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[WRITER] = writer
    app[STORE] = store
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/baselines", get_baselines)
    app.router.add_put("/baselines", put_baselines)
    app.router.add_get("/records", records)
    app.router.add_route("POST", "/{path:.*}", notification)
    app.router.add_route("PUT", "/{path:.*}", notification)
    app.router.add_get("/{path:.*}", not_found)
    return app


class SinkServer:
    """A running sink: bind at construction, serve in a thread or in the foreground."""

    def __init__(self, files: SinkFiles, host: str = "127.0.0.1", port: int = 0) -> None:
        files.directory.mkdir(parents=True, exist_ok=True)
        self.files = files
        # Bound now, so the URL is known (and the port taken) before serving starts.
        self._sock = socket.create_server((host, port), backlog=128)
        self._writer = journal.JournalWriter(files.journal)
        self._store = baselines_mod.BaselineStore(files.baselines)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://{host!s}:{port}"

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = web.AppRunner(application(self._writer, self._store), access_log=None,
                               handle_signals=False)
        await runner.setup()
        try:
            await web.SockSite(runner, self._sock).start()
            self._ready.set()
            if not self._stopping.is_set():
                await self._stop.wait()
        finally:
            self._ready.set()
            await runner.cleanup()

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`; then close the socket and the journal."""
        try:
            asyncio.run(self._serve())
        finally:
            self._sock.close()
            self._writer.close()

    def start(self) -> SinkServer:
        self._thread = threading.Thread(target=self.serve_forever, name="pfdrill-sink", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        return self

    def shutdown(self) -> None:
        """Make :meth:`serve_forever` return; safe from any thread (and a signal handler)."""
        self._stopping.set()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass  # the loop closed between the check and the call: already stopped

    def stop(self) -> None:
        self.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SinkServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
