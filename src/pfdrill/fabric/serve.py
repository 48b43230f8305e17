"""What both fabric servers share: command-line/env settings, the listen address, the run loop.

The runtime contract (``deploy/RUNTIME-CONTRACT.md``): listen on ``$PORT``
when it is set — then the process runtime runs us and every pod shares
127.0.0.1, so we bind loopback only — otherwise on the container port on all
interfaces (kind, real clusters). SIGTERM stops gracefully; SIGUSR1 writes a
state dump into the working directory and the service keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from aiohttp import web

from pfdrill.fabric import dump
from pfdrill.fabric.logline import LogLine
from pfdrill.fabric.logsink import LogSink


def listen_address(port_arg: int | None, host_arg: str | None, default_port: int) -> tuple[str, int]:
    env_port = os.environ.get("PORT")
    port = port_arg if port_arg is not None else int(env_port) if env_port else default_port
    host = host_arg or ("127.0.0.1" if env_port else "0.0.0.0")
    return host, port


def env_path(value: str | None, env: str, default: str) -> Path:
    return Path(value or os.environ.get(env) or default)


async def run(
    app: web.Application,
    *,
    service: str,
    host: str,
    port: int,
    sink: LogSink,
    snapshot: Callable[[], dict[str, object]],
    dump_dir: Path,
    background: list[Callable[[], Coroutine[Any, Any, None]]],
) -> None:
    """Serve ``app`` until SIGTERM/SIGINT, with SIGUSR1 dumps and background tasks."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_usr1() -> None:
        try:
            path = dump.write(dump_dir, service, snapshot())
        except OSError as exc:
            sink.emit(LogLine("ERROR", "state_dump", ("ERROR",), {"msg": f"cannot write dump: {exc}"}))
        else:
            sink.emit(LogLine("INFO", "state_dump", ("STATE_DUMP",), {"path": str(path.resolve())}))

    loop.add_signal_handler(signal.SIGUSR1, on_usr1)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        sink.emit(LogLine("ERROR", "listen", ("ERROR",), {"msg": f"cannot listen on {host}:{port}: {exc}"}))
        await runner.cleanup()
        raise SystemExit(1) from None
    # With --port 0 the kernel picks the port; log the real one so a supervisor can find it.
    bound = runner.addresses[0] if runner.addresses else (host, port)
    sink.emit(LogLine("INFO", "listening", (), {"service": service, "address": f"{bound[0]}:{bound[1]}",
                                                 "pid": str(os.getpid())}))
    tasks = [asyncio.create_task(job()) for job in background]
    await stop.wait()
    sink.emit(LogLine("INFO", "stopping", (), {"service": service}))
    for t in tasks:
        t.cancel()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await t
    await runner.cleanup()
    sink.close()


def start(coro: Coroutine[Any, Any, None]) -> int:
    asyncio.run(coro)
    return 0
