"""The dashboard's HTTP server: the page, server-sent events, and the facilitator's control API.

aiohttp on 127.0.0.1, on a port the OS picks, in a thread of its own so the
drill (or game day) keeps the main thread. Routes:

- ``GET /`` the page, ``GET /static/<file>`` its script and style (package data;
  nothing is fetched from anywhere else, so it works offline);
- ``GET /events`` the live feed as server-sent events, filtered for the role
  (:mod:`.views`); a reconnecting browser sends ``Last-Event-ID`` and gets what
  it missed;
- ``GET /api/state`` who you are and the game day as you may see it;
- ``POST /api/command`` a facilitator's command (or an observer's note) as JSON,
  with ``Authorization: Bearer <token>``: ``202`` accepted, ``409`` not now (why),
  ``401``/``403`` no or not enough of a token.

A role comes with its token (``?token=`` in the page's address, which the page
passes on); without one you are a responder. Tokens are read through
``tokens()`` on every request, so a game day started after the server still
counts.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib.resources
import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aiohttp import web

from pfdrill.dashboard import views
from pfdrill.dashboard.feed import Feed
from pfdrill.errors import InvalidInput, PfdrillError
from pfdrill.model.gameday import Command, Role
from pfdrill.model.live import LiveEvent

log = logging.getLogger(__name__)

STATIC = {"app.js": "application/javascript", "app.css": "text/css"}
KEEPALIVE_S = 15.0
DRAIN_S = 0.5  # on stop, how long connected browsers get for what is queued for them


class Controller(Protocol):
    def command(self, cmd: Command, role: Role) -> str:
        """Carry out (or queue) ``cmd``; :class:`~pfdrill.errors.InvalidInput` if not now."""
        ...


def _asset(name: str) -> bytes:
    return importlib.resources.files("pfdrill.dashboard").joinpath("static", name).read_bytes()


def encode(seq: int, event: LiveEvent) -> bytes:
    data = json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"))
    return f"id: {seq}\ndata: {data}\n\n".encode()


class DashboardServer:
    def __init__(self, feed: Feed, *, title: str = "pfdrill",
                 tokens: Callable[[], Mapping[Role, str]] = dict,
                 controller: Controller | None = None) -> None:
        self.feed = feed
        self.title = title
        self.tokens = tokens
        self.controller = controller
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = asyncio.Event()

    # --- who is asking ---------------------------------------------------------------------
    def role(self, token: str) -> Role | None:
        """The role a token grants; no token: responder; an unknown one: None."""
        if not token:
            return Role.RESPONDER
        for role, secret in self.tokens().items():
            if secret and hmac.compare_digest(secret.encode(), token.encode()):
                return role
        return None

    def _token(self, request: web.Request) -> str:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return request.query.get("token", "")

    # --- handlers --------------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.Response:
        html = _asset("index.html").decode().replace("{{title}}", self.title)
        return web.Response(text=html, content_type="text/html",
                            headers={"Cache-Control": "no-store"})

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(body=_asset(name), content_type=STATIC[name],
                            headers={"Cache-Control": "no-store"})

    async def _state(self, request: web.Request) -> web.Response:
        role = self.role(self._token(request))
        if role is None:
            raise web.HTTPUnauthorized(text="unknown token")
        state = self.feed.gameday
        shown = (views.for_responders(state) if role is Role.RESPONDER and state else state)
        return web.json_response({
            "role": role.value, "controls": role is Role.FACILITATOR
            and self.controller is not None, "notes": role in (Role.FACILITATOR, Role.OBSERVER)
            and self.controller is not None, "title": self.title, "last": self.feed.last,
            "hosted": self.controller is not None,  # a game day's own page: ends with the day
            "gameday": shown.to_dict() if shown is not None else None})

    async def _command(self, request: web.Request) -> web.Response:
        role = self.role(self._token(request))
        if role is None:
            return web.json_response({"error": "unknown token"}, status=401)
        if role is Role.RESPONDER:
            return web.json_response({"error": "responders' views are read-only"}, status=403)
        if self.controller is None:
            return web.json_response({"error": "no game day runs in this process"}, status=409)
        try:
            body: Any = await request.json()
            cmd = Command.from_dict(body)
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"not a command: {exc}"}, status=400)
        controller = self.controller
        try:
            message = await asyncio.get_running_loop().run_in_executor(
                None, controller.command, cmd, role)
        except InvalidInput as exc:
            return web.json_response({"error": exc.message}, status=409)
        except PfdrillError as exc:
            return web.json_response({"error": str(exc)}, status=500)
        return web.json_response({"ok": True, "message": message}, status=202)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        role = self.role(self._token(request))
        if role is None:
            raise web.HTTPUnauthorized(text="unknown token")
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no"})
        await response.prepare(request)
        try:
            last = int(request.headers.get("Last-Event-ID") or request.query.get("since") or 0)
        except ValueError:
            last = 0
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[int, LiveEvent] | None] = asyncio.Queue()

        def deliver(seq: int, ev: LiveEvent) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, (seq, ev))

        unsubscribe = self.feed.subscribe(deliver)
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await response.write(b"retry: 1000\n\n")
            for seq, ev in self.feed.since(last):
                last = await self._send(response, role, seq, ev, last)
            while not self._closing.is_set():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, closing}, timeout=KEEPALIVE_S,
                                             return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    if not self._closing.is_set():
                        await response.write(b": keepalive\n\n")
                    continue
                item = getter.result()
                if item is None:
                    break
                seq, ev = item
                if seq > last:
                    last = await self._send(response, role, seq, ev, last)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            closing.cancel()
            unsubscribe()
        return response

    async def _send(self, response: web.StreamResponse, role: Role, seq: int, ev: LiveEvent,
                    last: int) -> int:
        shown = views.for_role(ev, role, self.feed.gameday)
        if shown is not None:
            await response.write(encode(seq, shown))
        return max(last, seq)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._page)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/events", self._events)
        app.router.add_get("/api/state", self._state)
        app.router.add_post("/api/command", self._command)
        return app

    # --- running -----------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host`` (a port of the OS's choosing by default); the URL."""
        ready = threading.Event()
        failed: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._closing = asyncio.Event()
            runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2.0)
            try:
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, host, port)
                loop.run_until_complete(site.start())
                bound = runner.addresses[0]
                self.url = f"http://{bound[0]}:{bound[1]}/"
            except BaseException as exc:
                failed.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(runner.cleanup())
                loop.close()

        self._thread = threading.Thread(target=serve, name="pfdrill-dashboard", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failed:
            raise PfdrillError(f"the dashboard could not listen on {host}: {failed[0]}")
        return self.url

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._thread is None:
            return

        def close() -> None:
            self._closing.set()
            loop.call_later(0.2, loop.stop)

        # what is queued for the browsers goes out first (a game day's last state, say)
        loop.call_soon_threadsafe(loop.call_later, DRAIN_S, close)
        self._thread.join(timeout=15)
        self._thread = None
        self._loop = None
