"""Dates and times as runbooks and responders write them, with their zones kept.

``$(date -d '+2 days')`` prints ``Tue Jan  7 12:00:00 CET 2025`` (the machine's
own zone abbreviation), people type ``2025-01-07 14:00`` or ISO 8601 with an
offset. dateutil reads them all; this module decides what a zone means:

- an offset (``+01:00``, ``Z``) or ``UTC``/``GMT`` is kept as written;
- an abbreviation of the local zone (``CET``/``CEST`` under ``TZ=Europe/Berlin``)
  is the fixed offset it names, as date(1) meant it;
- any other abbreviation is refused: ``PST`` or ``IST`` is ambiguous, give an offset;
- **no zone at all means UTC**, whatever the machine's zone — the choice that
  keeps a date typed in CI (UTC) and on a laptop (anything) the same instant,
  and the one the incident store and calendar files are kept in.

Year, month and day must all be written: dateutil would otherwise fill a
missing part from today, and ``12`` would be the twelfth of this month.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from dateutil import parser, tz

from pfdrill.errors import InvalidInput

_UTC_NAMES = frozenset({"UTC", "GMT", "UT", "Z", "ZULU"})
_EXAMPLE = "e.g. 2025-01-07 14:00, 2025-01-07T14:00:00+01:00, or the output of date -d '+2 days'"


class _UnknownZone(ValueError):
    pass


def _zone(name: str | None, offset: int | None) -> Any:
    """dateutil's ``tzinfos`` hook: called for every zone name or offset it finds."""
    if name is not None and name.upper() in _UTC_NAMES and not offset:
        return dt.UTC
    if name is None:
        return tz.tzoffset(None, offset) if offset is not None else None
    local = {time.tzname[0]: -time.timezone, time.tzname[1]: -time.altzone}
    if name in local:
        return tz.tzoffset(name, local[name])
    if offset is not None:
        return tz.tzoffset(name, offset)
    raise _UnknownZone(name)


def parse(text: str, what: str = "--date") -> dt.datetime:
    """An aware datetime for ``text``; InvalidInput naming ``what`` when it is not a date."""
    cleaned = " ".join(str(text).split())
    try:
        # Two defaults that differ in every date field: a field the text leaves out shows up
        # as a difference, so "12" or "May 3" is refused instead of completed from today.
        first = parser.parse(cleaned, default=dt.datetime(2000, 1, 1), tzinfos=_zone)
        second = parser.parse(cleaned, default=dt.datetime(2001, 2, 2), tzinfos=_zone)
    except _UnknownZone as exc:
        raise InvalidInput(f"{what} {text!r}: unknown time zone {exc.args[0]!r} (give an "
                           "offset such as +01:00, or UTC)") from None
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"{what} {text!r} is not a date ({_EXAMPLE})") from exc
    if first.date() != second.date():
        raise InvalidInput(f"{what} {text!r} is not a whole date: write year, month and day "
                           f"({_EXAMPLE})")
    return first if first.tzinfo is not None else first.replace(tzinfo=dt.UTC)
