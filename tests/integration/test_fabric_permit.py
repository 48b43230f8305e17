"""The watcher's keep-alive permit client against small loopback servers that misbehave."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest

from pfdrill.fabric.permit import AdapterFailure, HttpPermitSource

pytestmark = pytest.mark.servers
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s'


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
    return head + await reader.readexactly(length)


def serve(handler: Handler, calls: list[int]) -> Callable[[Callable[[str], Awaitable[None]]], None]:
    def run(body: Callable[[str], Awaitable[None]]) -> None:
        async def main() -> None:
            async def wrapped(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                calls.append(1)
                try:
                    await handler(r, w)
                except (asyncio.IncompleteReadError, ConnectionError):
                    pass
                finally:
                    w.close()
                    with contextlib.suppress(ConnectionError):
                        await w.wait_closed()

            server = await asyncio.start_server(wrapped, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            async with server:
                await body(f"http://127.0.0.1:{port}")
        asyncio.run(main())
    return run


def test_keep_alive_reuses_one_connection() -> None:
    conns: list[int] = []

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        while True:
            await _read_request(r)
            payload = b'{"allow": true, "rule": "r1"}'
            w.write(OK % (len(payload), payload))
            await w.drain()

    async def body(url: str) -> None:
        src = HttpPermitSource(url)
        for _ in range(20):
            d = await src.decide("p", "read", 1.0)
            assert d.allow and d.rule == "r1"
        await src.close()

    serve(handler, conns)(body)
    assert len(conns) == 1


def test_a_connection_closed_while_idle_is_retried_on_a_fresh_one() -> None:
    conns: list[int] = []

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await _read_request(r)
        payload = b'{"allow": false, "rule": "deny-all"}'
        w.write(OK % (len(payload), payload))
        await w.drain()  # then close: the pooled connection goes stale

    async def body(url: str) -> None:
        src = HttpPermitSource(url)
        for _ in range(3):
            assert not (await src.decide("p", "read", 1.0)).allow
            await asyncio.sleep(0.05)
        await src.close()

    serve(handler, conns)(body)
    assert len(conns) == 3


@pytest.mark.parametrize("answer, kind", [
    (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}", "http_status"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnope!", "bad_response"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "bad_response"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", "bad_response"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{"allow":', "bad_response"),
])
def test_bad_answers_map_to_error_kinds(answer: bytes, kind: str) -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await _read_request(r)
        w.write(answer)
        await w.drain()

    async def body(url: str) -> None:
        src = HttpPermitSource(url)
        with pytest.raises(AdapterFailure) as exc:
            await src.decide("p", "read", 1.0)
        await src.close()
        assert exc.value.kind == kind

    serve(handler, [])(body)


def test_silence_is_a_timeout_and_nobody_listening_is_connect() -> None:
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await _read_request(r)
        await asyncio.sleep(2)

    async def body(url: str) -> None:
        src = HttpPermitSource(url)
        with pytest.raises(AdapterFailure) as exc:
            await src.decide("p", "read", 0.1)
        await src.close()
        assert exc.value.kind == "timeout"

    serve(handler, [])(body)

    async def refused() -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with pytest.raises(AdapterFailure) as exc:
            await HttpPermitSource(f"http://127.0.0.1:{port}").decide("p", "read", 1.0)
        assert exc.value.kind == "connect"

    asyncio.run(refused())
