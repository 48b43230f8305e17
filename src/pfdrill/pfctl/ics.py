"""iCalendar (RFC 5545) invitations for post-mortems and follow-up meetings."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts: list[str] = []
    chunk = b""
    for ch in line:
        b = ch.encode("utf-8")
        if len(chunk) + len(b) > (75 if not parts else 74):
            parts.append(chunk.decode("utf-8"))
            chunk = b""
        chunk += b
    parts.append(chunk.decode("utf-8"))
    return "\r\n ".join(parts)


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def event(summary: str, start: dt.datetime, duration: dt.timedelta, description: str = "",
          now: dt.datetime | None = None) -> str:
    created = now or dt.datetime.now(dt.UTC)
    uid = hashlib.sha256(f"{summary}|{_stamp(start)}".encode()).hexdigest()[:24] + "@pfdrill"
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//pfdrill//pfctl//EN", "CALSCALE:GREGORIAN",
        "METHOD:REQUEST", "BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{_stamp(created)}",
        f"DTSTART:{_stamp(start)}", f"DTEND:{_stamp(start + duration)}",
        f"SUMMARY:{_escape(summary)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(ln) for ln in lines) + "\r\n"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "meeting"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path
