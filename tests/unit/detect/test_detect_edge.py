"""The edge search: few injections, starting at the prediction, bracketing tightly."""

from __future__ import annotations

import pytest

from pfdrill.detect import edge

MULTIPLIER = edge.Limits(low=1.0, high=1000.0, low_open=True)
FRACTION = edge.Limits(low=0.0, high=1.0, low_open=True)


def search(true_edge: float, predicted: float, limits: edge.Limits, budget: int = 6
           ) -> list[tuple[float, bool]]:
    trials: list[tuple[float, bool]] = []
    while len(trials) < budget:
        nxt = edge.next_size(trials, predicted, limits)
        if nxt is None:
            break
        trials.append((nxt, nxt > true_edge))
    return trials


def test_a_threshold_where_predicted_is_bracketed_within_10_percent_in_two_injections() -> None:
    trials = search(10.0, 10.0, MULTIPLIER)
    assert trials[:2] == [(pytest.approx(11.0), True), (pytest.approx(9.0), False)]
    b = edge.bracket(trials)
    assert b.closed and (b.width or 1) <= 0.05 and len(trials) <= 4
    assert (b.largest_missed or 0) < 10 < (b.smallest_detected or 0)


def test_a_threshold_far_above_the_prediction_is_found_by_doubling_then_halving() -> None:
    trials = search(19.4, 10.0, MULTIPLIER)
    assert [d for _, d in trials[:2]] == [False, True]  # 11 missed, 22 detected
    b = edge.bracket(trials)
    assert len(trials) <= 6 and (b.largest_missed or 0) < 19.4 < (b.smallest_detected or 0)
    assert (b.width or 1) < 0.15


def test_a_threshold_far_below_the_prediction_is_found_by_halving() -> None:
    trials = search(0.03, 0.2, FRACTION)
    b = edge.bracket(trials)
    assert (b.largest_missed or 0) < 0.03 < (b.smallest_detected or 1)
    assert all(FRACTION.allows(s) for s, _ in trials)


def test_the_search_stops_at_the_parameter_s_limits() -> None:
    trials = search(5.0, 0.95, FRACTION)  # never detected, up to fraction 1
    assert max(s for s, _ in trials) == 1.0 and edge.next_size(trials, 0.95, FRACTION) is None


def test_a_miss_above_a_detection_ends_the_search() -> None:
    noisy = [(11.0, True), (9.0, False), (9.95, True), (10.4, False)]
    assert not edge.bracket(noisy).consistent
    assert edge.next_size(noisy, 10.0, MULTIPLIER) is None
