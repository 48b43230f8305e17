"""Service proxies: one TCP listener per Service port, balancing over ready endpoints.

This is the runtime's kube-proxy. Processes learn a Service's address from the
``<SVC>_SERVICE_HOST``/``_PORT`` env; the proxy forwards each connection to one
ready endpoint (round robin). With no ready endpoint the connection is closed
at once, which a client sees the way it sees a Service with no endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import Sequence

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
