"""The sink as a long-running process: foreground run, its command line, its endpoint file.

``python -m pfdrill.sink --dir DIR`` (what ``pfdrill sink serve`` runs, and
what the detached start spawns) binds, writes ``DIR/endpoint.json`` with its
URL and pid, serves until SIGTERM/SIGINT, then exits 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from pfdrill.sink.server import SinkFiles, SinkServer

ENDPOINT_FILE = "endpoint.json"


@dataclasses.dataclass(frozen=True)
class Endpoint:
    url: str
    pid: int
    directory: str
    started_at: float

    @property
    def journal(self) -> Path:
        return SinkFiles(Path(self.directory)).journal

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Endpoint:
        return cls(url=str(data["url"]), pid=int(data["pid"]), directory=str(data["directory"]),
                   started_at=float(data["started_at"]))


def read_endpoint(directory: Path) -> Endpoint | None:
    path = directory / ENDPOINT_FILE
    try:
        return Endpoint.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError):
        return None


def argv(directory: Path, host: str = "127.0.0.1", port: int = 0) -> list[str]:
    """The command line of a sink process (the same interpreter as this one)."""
    return [sys.executable, "-m", "pfdrill.sink", "--dir", str(directory), "--host", host,
            "--port", str(port)]


def run(directory: Path, host: str = "127.0.0.1", port: int = 0) -> int:
    """Serve in the foreground until SIGTERM or SIGINT."""
    server = SinkServer(SinkFiles(directory), host=host, port=port)
    endpoint = Endpoint(url=server.url, pid=os.getpid(), directory=str(directory),
                        started_at=time.time())
    target = directory / ENDPOINT_FILE
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(endpoint.to_dict()), encoding="utf-8")
    os.replace(tmp, target)

    def stop(signum: int, frame: object) -> None:
        server.shutdown()  # only asks the event loop to stop: safe in a signal handler

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"pfdrill sink listening on {server.url}, journal {server.files.journal}", flush=True)
    try:
        server.serve_forever()
    finally:
        if read_endpoint(directory) == endpoint:
            target.unlink(missing_ok=True)
    return 0


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pfdrill.sink")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=0, type=int)
    ns = parser.parse_args(args)
    return run(ns.dir, ns.host, ns.port)
