"""The fabric's log format: one logfmt line per event, greppable and parseable.

Every line is ``key=value`` pairs, values double-quoted when they hold
spaces, quotes or ``=``; newlines in values are escaped, so a request can
never forge a second line (log injection). Fixed keys come first::

    ts=2026-11-28T12:00:00.123Z level=WARNING event=decision tags=REJECT,POLICY_VIOLATION,FORBIDDEN mode=enforce outcome=reject principal=svc-intern action=export reason=permit rule=intern-no-export request_id=9f2c latency_ms=1.41

``tags`` carries the runbook's grep words (``VIOLATION``, ``POLICY_VIOLATION``,
``REJECT``, ``ERROR``, ``UNAUTHORIZED``, ``FORBIDDEN``, ``AUTH_FAILED``,
``BYPASS``, ``OVERRIDE``, ``BREAK_GLASS``), so ``grep -E "(VIOLATION|REJECT|ERROR)"``
finds exactly the lines that matter, and :func:`parse` turns any line back
into a :class:`LogLine` for ``pfctl analyze --violations``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

GREP_WORDS = (
    "VIOLATION", "POLICY_VIOLATION", "REJECT", "ERROR", "UNAUTHORIZED", "FORBIDDEN",
    "AUTH_FAILED", "BYPASS", "OVERRIDE", "BREAK_GLASS",
)
_FIXED = ("ts", "level", "event", "tags")
_BARE = re.compile(r"[A-Za-z0-9_.:/@+,<>*\-]+")  # fullmatch: `$` would let "x\n" through
_TOKEN = re.compile(r'([A-Za-z0-9_]+)=("(?:[^"\\]|\\.)*"|\S*)')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}


def _escape(c: str) -> str:
    if c in _ESCAPES:
        return _ESCAPES[c]
    if c.isprintable():
        return c
    return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"


def quote(value: str) -> str:
    if value and _BARE.fullmatch(value):
        return value
    return '"' + "".join(_escape(c) for c in value) + '"'


def unquote(value: str) -> str:
    if not (len(value) >= 2 and value[0] == '"' and value[-1] == '"'):
        return value
    out, i, body = [], 0, value[1:-1]
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            width = {"u": 4, "U": 8}.get(nxt, 0)
            if width:
                out.append(chr(int(body[i + 2:i + 2 + width], 16)))
                i += 2 + width
            else:
                out.append(_UNESCAPES.get(nxt, nxt))
                i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclasses.dataclass(frozen=True)
class LogLine:
    level: str
    event: str
    tags: tuple[str, ...] = ()
    fields: Mapping[str, str] = dataclasses.field(default_factory=dict)
    ts: str = ""

    def render(self) -> str:
        parts = [f"ts={self.ts or now_iso()}", f"level={self.level}", f"event={quote(self.event)}",
                 f"tags={','.join(self.tags) if self.tags else '-'}"]
        parts.extend(f"{k}={quote(str(v))}" for k, v in self.fields.items())
        return " ".join(parts)

    def has(self, word: str) -> bool:
        return word in self.tags

    def to_dict(self) -> dict[str, Any]:
        return {"ts": self.ts, "level": self.level, "event": self.event,
                "tags": list(self.tags), "fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LogLine:
        return cls(str(data["level"]), str(data["event"]), tuple(data.get("tags") or ()),
                   {str(k): str(v) for k, v in (data.get("fields") or {}).items()},
                   str(data.get("ts", "")))


def parse(line: str) -> LogLine | None:
    """The :class:`LogLine` in ``line`` (a ``kubectl logs`` prefix is tolerated), None if none."""
    start = line.find("ts=")
    if start < 0:
        return None
    pairs = {k: unquote(v) for k, v in _TOKEN.findall(line[start:])}
    if not all(k in pairs for k in ("ts", "level", "event")):
        return None
    tags = tuple(t for t in pairs.get("tags", "").split(",") if t and t != "-")
    fields = {k: v for k, v in pairs.items() if k not in _FIXED}
    return LogLine(pairs["level"], pairs["event"], tags, fields, pairs["ts"])
