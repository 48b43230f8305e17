"""Dates and durations as runbooks write them: ``$(date -d '+2 days')``, ``2 hours ago``, ``10m``."""

from __future__ import annotations

import datetime as dt
import re

from pfdrill.errors import InvalidInput

_FORMATS = (
    "%a %b %d %H:%M:%S %Z %Y",  # date(1) in the C locale: "Tue Jan  7 12:00:00 UTC 2025"
    "%a %b %d %H:%M:%S %Y",
    "%a %d %b %Y %H:%M:%S %Z",  # some locales
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600,
          "hour": 3600, "d": 86400, "day": 86400, "w": 604800, "week": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*(?:ago)?\s*$")


def parse_date(text: str, option: str = "--date") -> dt.datetime:
    """An absolute date/time (UTC when no zone is given)."""
    cleaned = re.sub(r"\s+", " ", text.strip())
    try:
        parsed = dt.datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise InvalidInput(f"{option} {text!r} is not a date (e.g. 2025-01-07 14:00, or the output "
                       f"of date -d '+2 days')")


def parse_duration(text: str, option: str) -> dt.timedelta:
    """``10m``, ``1h``, ``2 hours ago``, ``90s``, ``3 days``."""
    m = _DURATION.match(text.lower())
    unit = m.group(2) if m else ""
    if not m or unit not in _UNITS:
        raise InvalidInput(f"{option} {text!r} is not a duration (e.g. 10m, 1h, '2 hours ago')")
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[unit])


def prom_duration(text: str, option: str) -> str:
    """A duration in Prometheus syntax (``1m``, ``10m``, ``2h``)."""
    seconds = int(parse_duration(text, option).total_seconds())
    if seconds <= 0:
        raise InvalidInput(f"{option} {text!r} must be longer than 0s")
    for suffix, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{suffix}"
    return f"{seconds}s"
