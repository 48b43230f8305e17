"""Service proxies: one TCP listener per Service port, balancing over ready endpoints.

This is the runtime's kube-proxy. Processes learn a Service's address from the
``<SVC>_SERVICE_HOST``/``_PORT`` env; the proxy forwards each connection to one
ready endpoint (round robin). With no ready endpoint the connection is closed
at once, which a client sees the way it sees a Service with no endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import threading
import urllib.parse
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)


class ProxyServer:
    """Runs every listener on one asyncio loop in a background thread."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="svc-proxy")
        self._servers: dict[int, asyncio.base_events.Server] = {}
        self._endpoints: dict[int, tuple[str, ...]] = {}
        self._rr: dict[int, itertools.count[int]] = {}
        self._thread.start()

    def listen(self, port: int) -> None:
        """Start listening on 127.0.0.1:port (idempotent)."""
        if port in self._servers:
            return
        fut = asyncio.run_coroutine_threadsafe(self._listen(port), self._loop)
        self._servers[port] = fut.result(timeout=5)

    async def _listen(self, port: int) -> asyncio.base_events.Server:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._forward(port, reader, writer)
        return await asyncio.start_server(handle, "127.0.0.1", port, reuse_address=True, backlog=512)

    def listen_pod_network(self, route: Callable[[str], str | None]) -> int:
        """Start the pod network's HTTP proxy on a free 127.0.0.1 port; returns the port.

        A pod's IP routes nowhere here, so a program that honours ``HTTP_PROXY`` reaches
        ``<pod IP>:<container port>`` (or a Service's cluster IP) through this proxy:
        ``route("10.0.0.7:8080")`` names the local address serving it. Plain requests
        (absolute-form, ``GET http://10.0.0.7:8080/metrics``) are sent with
        ``Connection: close``, so each connection carries one request and one target;
        ``CONNECT`` tunnels anything else. An unknown address answers 502.
        """
        async def start() -> asyncio.base_events.Server:
            async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                await self._pod_network(route, reader, writer)
            return await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
        server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=5)
        port = int(server.sockets[0].getsockname()[1])
        self._servers[port] = server
        return port

    async def _pod_network(self, route: Callable[[str], str | None], reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10.0)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            writer.close()
            return
        request = rewrite_proxy_request(head)
        local = route(request.target) if request is not None else None
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        if local is not None:
            host, _, p = local.rpartition(":")
            with contextlib.suppress(TimeoutError, OSError):
                upstream = await asyncio.wait_for(asyncio.open_connection(host, int(p)), 2.0)
        if request is None or upstream is None:
            what = request.target if request is not None else "a request it cannot read"
            body = f"pod network: no route to {what}\n".encode()
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            with contextlib.suppress(Exception):
                await writer.drain()
                writer.close()
            return
        up_reader, up_writer = upstream
        if request.tunnel:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            up_writer.write(request.head)
        await self._pipe_both(reader, writer, up_reader, up_writer)

    def set_endpoints(self, port: int, endpoints: Sequence[str]) -> None:
        self._endpoints[port] = tuple(endpoints)

    def endpoints(self, port: int) -> tuple[str, ...]:
        return self._endpoints.get(port, ())

    def close(self, port: int) -> None:
        server = self._servers.pop(port, None)
        self._endpoints.pop(port, None)
        if server is not None:
            self._loop.call_soon_threadsafe(server.close)

    def shutdown(self) -> None:
        for port in list(self._servers):
            self.close(port)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _forward(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        eps = self._endpoints.get(port, ())
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        if eps:
            rr = self._rr.setdefault(port, itertools.count())
            start = next(rr)
            for i in range(len(eps)):
                host, _, p = eps[(start + i) % len(eps)].rpartition(":")
                try:
                    upstream = await asyncio.wait_for(asyncio.open_connection(host, int(p)), 2.0)
                    break
                except (TimeoutError, OSError):
                    continue
        if upstream is None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        up_reader, up_writer = upstream
        await self._pipe_both(reader, writer, up_reader, up_writer)

    @staticmethod
    async def _pipe_both(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> None:
        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@dataclasses.dataclass(frozen=True)
class ProxyRequest:
    target: str  # host:port asked for
    tunnel: bool  # CONNECT
    head: bytes  # what to send upstream (origin-form, Connection: close); b"" for CONNECT


_HOP = (b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization")


def rewrite_proxy_request(head: bytes) -> ProxyRequest | None:
    """A proxy request's target, and its head as the origin server should get it.

    ``CONNECT host:port`` is a tunnel. ``METHOD http://host[:port]/path HTTP/1.1`` becomes
    ``METHOD /path HTTP/1.1`` with the hop-by-hop headers replaced by
    ``Connection: close``. Anything else (origin-form, https, no host) is None.
    """
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        return None
    method, uri, version = parts
    if method == b"CONNECT":
        target = uri.decode("latin-1")
        return ProxyRequest(target, True, b"") if ":" in target else None
    url = urllib.parse.urlsplit(uri.decode("latin-1"))
    if url.scheme != "http" or not url.hostname:
        return None
    target = f"{url.hostname}:{url.port or 80}"
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    headers = [ln for ln in lines[1:] if ln and ln.split(b":", 1)[0].strip().lower() not in _HOP]
    out = [b" ".join((method, path.encode("latin-1"), version)), *headers, b"Connection: close"]
    return ProxyRequest(target, False, b"\r\n".join(out) + b"\r\n\r\n")
