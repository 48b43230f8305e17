"""Durations, the one parser: ``30s``, ``1m30s``, ``500ms`` (Prometheus) and, for people, ``2 hours ago``.

Two dialects of one grammar. Prometheus' own (``[0-9]+(ms|s|m|h|d|w|y)`` repeated,
largest unit first) is what rule files and timing profiles hold, and is all
:func:`seconds` accepts by default. ``words=True`` also takes what a runbook or
a responder types: a number (``1.5``) and a unit word (``min``, ``hours``), with
an optional ``ago`` — the forms ``pfctl`` options document.
"""

from __future__ import annotations

import math
import re

from pfdrill.errors import InvalidInput

_PROM_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)  # y..ms
_PROM = re.compile(r"^(?:(\d{1,18})y)?(?:(\d{1,18})w)?(?:(\d{1,18})d)?(?:(\d{1,18})h)?"
                   r"(?:(\d{1,18})m(?!s))?(?:(\d{1,18})s)?"
                   r"(?:(\d{1,18})ms)?$")
_WORD_UNITS = {"ms": 0.001, "msec": 0.001, "millisecond": 0.001,
               "s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
               "h": 3600, "hr": 3600, "hour": 3600, "d": 86400, "day": 86400,
               "w": 604800, "week": 604800}
_WORDS = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]+)(?:\s+ago)?$")
MAX_SECONDS = 100 * 365 * 86400.0  # past this a duration is a typo (and overflows timedelta)
_EXAMPLES = {False: "e.g. 30s, 5m, 1m30s, 500ms", True: "e.g. 10m, 1h, 90s, '2 hours ago'"}


def seconds(text: str, *, words: bool = False, what: str = "") -> float:
    """The length of ``text`` in seconds; InvalidInput saying what a duration looks like.

    ``what`` names the option or field in the message (``--since '5 parsecs' ...``).
    """
    cleaned = re.sub(r"\s+", " ", str(text).strip().lower())
    label = f"{what} {text!r}" if what else repr(text)
    value: float | None = None
    found = _PROM.match(cleaned) if cleaned else None
    if found is not None:
        # In whole milliseconds, so a number too long for a float is "too long", not a crash.
        ms = sum(int(g) * size for g, size in zip(found.groups(), _PROM_MS, strict=True) if g)
        value = ms / 1000 if ms <= MAX_SECONDS * 1000 else math.inf
    elif words:
        m = _WORDS.match(cleaned)
        unit = m.group(2) if m is not None else ""
        if unit not in _WORD_UNITS and unit.endswith("s"):
            unit = unit[:-1]  # "hours", but "ms" stays milliseconds
        if m is not None and unit in _WORD_UNITS:
            value = float(m.group(1)) * _WORD_UNITS[unit]
    if value is None or math.isnan(value):
        raise InvalidInput(f"{label} is not a duration ({_EXAMPLES[words]})")
    if value > MAX_SECONDS:
        raise InvalidInput(f"{label} is longer than 100 years")
    return value


def text(value: float) -> str:
    """A Prometheus duration: 300 -> '5m', 10 -> '10s', 0.5 -> '500ms', 3900 -> '65m'."""
    if value <= 0:
        return "0s"
    ms = round(value * 1000)
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"

