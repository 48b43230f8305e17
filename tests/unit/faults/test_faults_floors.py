"""The faults that aim at a relative threshold use the same baseline floors as the alert rules."""

from __future__ import annotations

import pytest

from pfdrill.classify import thresholds
from pfdrill.faults import degradation, reject

TABLE = thresholds.load()


def test_fault_floors_match_the_threshold_table() -> None:
    assert TABLE.floor("reject_rate") == reject.BASELINE_FLOOR
    assert TABLE.floor("latency_mean_seconds") * 1000 == degradation.BASELINE_FLOOR_MS


@pytest.mark.parametrize(("baseline_ms", "percent", "mean_after_ms"), [
    (3.0, 60, 8.0),     # below the floor: 60% over the 5 ms floor
    (5.0, 30, 6.5),     # at the floor
    (20.0, 60, 32.0),   # above it: 60% over the measured mean
])
def test_added_latency_lands_the_mean_percent_above_the_effective_baseline(
        baseline_ms: float, percent: float, mean_after_ms: float) -> None:
    assert baseline_ms + degradation.added_ms(baseline_ms, percent) == pytest.approx(mean_after_ms)
