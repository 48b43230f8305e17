"""The sink's append-only JSONL journal: one received request per line.

Each record is written with a single ``write`` on an ``O_APPEND`` descriptor,
then ``fsync``'d before the sender gets its answer, so a record that was
acknowledged survives a crash of the sink (or of the machine). A crash in the
middle of a write can leave a torn last line without its newline: readers
skip it, and a restarted writer cuts it off before appending.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from pfdrill.errors import InvalidInput
from pfdrill.model.detection import Channel, SinkRequest


def _repair(path: Path) -> int:
    """Cut a torn last line; return how many whole records the file holds."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with path.open("r+b") as fh:
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
        data = data[:keep]
    return data.count(b"\n")


def decode_body(raw: bytes) -> tuple[str, str | None, object, str | None]:
    """``(text, base64 if not UTF-8, parsed JSON or None, JSON error or None)``."""
    try:
        text, b64 = raw.decode("utf-8"), None
    except UnicodeDecodeError:
        text, b64 = raw.decode("utf-8", errors="replace"), base64.b64encode(raw).decode("ascii")
    if not text.strip():
        return text, b64, None, None
    try:
        return text, b64, json.loads(text), None
    except ValueError as exc:
        return text, b64, None, str(exc)


class JournalWriter:
    """Appends :class:`SinkRequest` records; safe to share between server threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._seq = _repair(path)
        self._lock = threading.Lock()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, *, method: str, path: str, query: str, content_type: str, raw: bytes,
               received_at: float | None = None) -> SinkRequest:
        text, b64, parsed, error = decode_body(raw)
        with self._lock:
            self._seq += 1
            record = SinkRequest(
                seq=self._seq, received_at=received_at if received_at is not None else time.time(),
                method=method, path=path, channel=Channel.for_path(path), query=query,
                content_type=content_type, body=text, body_b64=b64, json=parsed, json_error=error,
            )
            line = (json.dumps(record.to_dict(), ensure_ascii=False) + "\n").encode("utf-8")
            os.write(self._fd, line)
            os.fsync(self._fd)
        return record

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def iter_records(path: Path) -> Iterator[SinkRequest]:
    """Every whole record, in order. A torn (newline-less) last line is skipped."""
    if not path.exists():
        return
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.endswith(b"\n"):
                return  # being written, or torn by a crash
            try:
                yield SinkRequest.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise InvalidInput(f"not a sink journal record: {exc}", file=path, line=number,
                                   text=line.decode("utf-8", errors="replace")[:200]) from exc


def read(path: Path, *, channel: Channel | None = None, since: float | None = None,
         path_prefix: str | None = None) -> list[SinkRequest]:
    """Records filtered by channel, receive time (``>= since``) and request path prefix."""
    return [
        n for n in iter_records(path)
        if (channel is None or n.channel is channel)
        and (since is None or n.received_at >= since)
        and (path_prefix is None or n.path.startswith(path_prefix))
    ]
