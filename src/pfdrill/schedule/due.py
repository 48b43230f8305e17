"""Which schedule entries are due: their cron fired within the last ``window``.

A CronJob calls ``pfdrill schedule run --schedule NAME`` at the right time
and needs no judgement; a CI workflow fires on cron too, but GitHub may start a
scheduled run late (often minutes, sometimes an hour), so the workflow asks
for the entries whose most recent fire time lies within a window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from croniter import croniter

from pfdrill.schedule.spec import Entry

DEFAULT_WINDOW = dt.timedelta(hours=2)


def last_fire(entry: Entry, now: dt.datetime) -> dt.datetime:
    fired: dt.datetime = croniter(entry.cron, now).get_prev(dt.datetime)
    return fired


def due(entries: Sequence[Entry], now: dt.datetime,
        window: dt.timedelta = DEFAULT_WINDOW) -> list[Entry]:
    """Entries whose cron fired in ``(now - window, now]`` (UTC)."""
    at = now.astimezone(dt.UTC)
    # croniter's get_prev is strict: a fire exactly at `now` counts as due too
    probe = at + dt.timedelta(seconds=1)
    return [e for e in entries if at - window < last_fire(e, probe) <= at]
