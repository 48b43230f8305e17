"""Dates keep their zones whatever the machine's zone is (the sandbox's TZ=UTC hid the bug)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.formats import instant

BERLIN = "CET-1CEST,M3.5.0,M10.5.0/3"  # a POSIX TZ rule: needs no tzdata on the machine


@pytest.fixture(params=["UTC0", BERLIN, "EST5EDT,M3.2.0,M11.1.0"])
def machine_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test as if the machine's local zone were this one."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    try:
        yield str(request.param)
    finally:
        monkeypatch.undo()
        time.tzset()


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_an_offset_is_kept_whatever_the_local_zone(machine_zone: str) -> None:
    parsed = instant.parse("2026-12-01T14:30:00+01:00")
    assert parsed.utcoffset() == dt.timedelta(hours=1) and parsed == utc(2026, 12, 1, 13, 30)
    assert instant.parse("Tue Dec  1 14:30:00 UTC 2026") == utc(2026, 12, 1, 14, 30)
    assert instant.parse("2026-12-01 14:30Z") == utc(2026, 12, 1, 14, 30)


def test_a_time_without_a_zone_is_utc_on_every_machine(machine_zone: str) -> None:
    assert instant.parse("2026-12-01") == utc(2026, 12, 1)
    assert instant.parse("2026-12-01 14:30") == utc(2026, 12, 1, 14, 30)
    assert instant.parse("Tue Dec  1 14:30:00 2026").utcoffset() == dt.timedelta(0)


def test_date1_output_in_the_local_zone_means_that_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", BERLIN)
    time.tzset()
    try:
        # What `date -d '+2 days'` prints on a machine in Berlin, winter and summer.
        winter = instant.parse("Tue Jan  7 12:00:00 CET 2025")
        summer = instant.parse("Mon Jul  7 12:00:00 CEST 2025")
        with pytest.raises(InvalidInput, match="unknown time zone 'PST'"):
            instant.parse("Tue Jan  7 12:00:00 PST 2025")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert winter == utc(2025, 1, 7, 11) and summer == utc(2025, 7, 7, 10)


@pytest.mark.parametrize("text", ["next tuesday", "12", "May 3", "2025-02-30", "", "9" * 30])
def test_what_is_not_a_whole_date(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^--date .* (is not a date|is not a whole date)"):
        instant.parse(text)
