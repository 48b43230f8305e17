"""The one duration parser: Prometheus' syntax, and what people type where an option allows it."""

from __future__ import annotations

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.formats import duration


def test_prometheus_durations() -> None:
    assert [duration.seconds(t) for t in ("5m", "1m30s", "500ms", "2h", "10s", "1d", "1w", "0s")] == [
        300, 90, 0.5, 7200, 10, 86400, 604800, 0]
    for text in ("5 minutes", "1.5h", "m", "", "5m1h", "-5m", "10 ms"):
        with pytest.raises(InvalidInput, match="is not a duration"):
            duration.seconds(text)


def test_words_where_people_type_them() -> None:
    cases = {"10m": 600, "2 hours ago": 7200, "90s": 90, "3 days": 259200, "1.5h": 5400,
             "500 ms": 0.5, "10 secs": 10, "1 week": 604800, "2hrs": 7200}
    assert {t: duration.seconds(t, words=True) for t in cases} == cases
    with pytest.raises(InvalidInput, match=r"^--since '5 parsecs' is not a duration \(e\.g\. 10m"):
        duration.seconds("5 parsecs", words=True, what="--since")


def test_absurd_lengths_are_refused_not_overflowed() -> None:
    for text in ("9" * 18 + "y", "9" * 400 + " hours"):
        with pytest.raises(InvalidInput, match="longer than 100 years"):
            duration.seconds(text, words=True)
    with pytest.raises(InvalidInput, match="is not a duration"):
        duration.seconds("9" * 5000 + "s")


def test_written_back_as_prometheus_does() -> None:
    assert [duration.text(s) for s in (300, 10, 0.5, 3900, 90, 0, -1)] == [
        "5m", "10s", "500ms", "65m", "90s", "0s", "0s"]
    for s in (300, 10, 0.5, 3900, 90, 86400):
        assert duration.seconds(duration.text(s)) == s
