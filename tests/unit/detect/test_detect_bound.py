"""The bound's arithmetic: window fill, Prometheus' rate(), and the replay over every phase."""

from __future__ import annotations

import random

import pytest

from pfdrill.detect import bound
from pfdrill.detect.bound import Rates, Step, Timing
from pfdrill.detect.shape import AlertCondition, Comparison, Relative, Shape, SignalShape

DRILL = Timing(scrape_s=1, evaluation_s=1, window_s=30, for_s=2, group_wait_s=1)
RATE = SignalShape("reject_rate_ratio", Shape.RATE, "reject_rate", "sum(rate(x[30s]))", "",
                   Relative("reject_rate", "reject_rate", floor=0.1))
ABOVE_10 = AlertCondition("RejectRateSpikeHigh", "reject_rate_ratio", (Comparison(">", 10),))


def test_a_reject_spike_must_fill_t_minus_1_over_m_minus_1_of_the_sampled_window() -> None:
    for m in (11.0, 12.0, 20.0, 100.0):
        b = bound.bound("RejectRateSpikeHigh", ABOVE_10, RATE, DRILL, Step(Rates(1.0), Rates(m)), 1.0)
        assert b.enter == pytest.approx(9 / (m - 1))
        assert b.fill_s == pytest.approx(29 * 9 / (m - 1))  # 30 s window, 30 samples: 29 s span
        assert b.earliest_s == pytest.approx(b.fill_s + 2 + 1)
        assert b.healthy_s == pytest.approx(30 * 9 / (m - 1) + 1 + 1 + 2 + 1)


def test_the_issue_s_case_12x_against_10x_over_30s_is_about_27s_not_6s() -> None:
    b = bound.bound("RejectRateSpikeHigh", ABOVE_10, RATE, DRILL, Step(Rates(0.7), Rates(8.4)), 0.7)
    assert 26 < b.earliest_s < 27
    assert "window fill 23.7 s (82% of a 29 s span to cross > 10)" in b.describe()


def test_a_fault_below_the_threshold_is_unreachable() -> None:
    b = bound.bound("RejectRateSpikeHigh", ABOVE_10, RATE, DRILL, Step(Rates(1.0), Rates(9.5)), 1.0)
    assert b.enter is None and not b.reachable
    assert b.describe().startswith("cannot fire")


def test_a_band_passed_through_faster_than_for_cannot_fire() -> None:
    band = AlertCondition("RejectRateSpikeMedium", "reject_rate_ratio",
                          (Comparison(">=", 2), Comparison("<=", 10)))
    slow = bound.bound("M", band, RATE, DRILL, Step(Rates(1.0), Rates(12.0)), 1.0)
    assert slow.enter == pytest.approx(1 / 11) and slow.leave == pytest.approx(9 / 11)
    assert slow.reachable
    tight = Timing(1, 1, 30, for_s=25, group_wait_s=1)  # 22 s in the band < for 25 s
    assert not bound.bound("M", band, RATE, tight, Step(Rates(1.0), Rates(12.0)), 1.0).reachable


def test_a_ratio_of_rates_counts_the_added_denominator() -> None:
    ratio = SignalShape("witness_failure_ratio", Shape.RATE_RATIO, "witness_failure_ratio", "a", "b")
    cond = AlertCondition("W", "witness_failure_ratio", (Comparison(">", 0.05),))
    # 20 checks/s at 1% failing; the fault adds 20/s, half of them failing
    b = bound.bound("W", cond, ratio, DRILL, Step(Rates(0.2, 20), Rates(10.2, 40)))
    x = b.enter or 0.0
    mixed = Step(Rates(0.2, 20), Rates(10.2, 40)).mix(x)
    assert mixed.value == pytest.approx(0.05)
    assert x == pytest.approx((0.05 * 20 - 0.2) / ((10.2 - 0.2) - 0.05 * 20))


def test_a_gauge_or_an_unsized_fault_counts_no_window() -> None:
    gauge = SignalShape("dfa_integrity_ok", Shape.GAUGE, "dfa_integrity_ok")
    cond = AlertCondition("D", "dfa_integrity_ok", (Comparison("<", 1),))
    g = bound.bound("D", cond, gauge, DRILL, None)
    assert (g.earliest_s, g.healthy_s, g.sized) == (3, 5, True)
    unsized = bound.bound("R", ABOVE_10, RATE, DRILL, None, 1.0)
    assert unsized.earliest_s == 3 and not unsized.sized
    assert "fault size unknown" in unsized.describe()


def test_prom_rate_is_the_slope_between_the_window_s_first_and_last_samples() -> None:
    samples = bound.counter_samples(1.0, 5.0, step_at=40.3, start=1000, horizon=100, scrape_s=1,
                                    offset=0.4)
    for t in (50.0, 55.7, 60.2):
        inside = [(ts, v) for ts, v in samples if t - 30 <= ts <= t]
        (t0, v0), (t1, v1) = inside[0], inside[-1]
        assert bound.prom_rate(samples, t, 30) == pytest.approx((v1 - v0) / (t1 - t0))
    # a young counter is extrapolated only to where it would have been zero
    young = [(10.0, 2.0), (11.0, 4.0)]
    assert bound.prom_rate(young, 11.0, 30) == pytest.approx((2.0 * (1 + 1)) / 30)
    assert bound.prom_rate(young[:1], 11.0, 30) is None


@pytest.mark.parametrize("m", [10.5, 12.0, 30.0])
def test_the_replay_never_beats_the_bound_nor_exceeds_the_healthy_pipeline(m: float) -> None:
    rng = random.Random(int(m * 100))
    step = Step(Rates(1.0), Rates(m))
    comparisons = bound.raw_comparisons(ABOVE_10, RATE, 1.0)
    b = bound.bound("R", ABOVE_10, RATE, DRILL, step, 1.0)
    seen = []
    for _ in range(60):
        scrape, evaluation, step_at = rng.random(), rng.random(), 40 + rng.random() * 3
        fired = bound.first_firing(step, comparisons, DRILL, step_at, horizon=130,
                                   scrape_offset=scrape, eval_offset=evaluation)
        assert fired is not None
        seen.append(fired - step_at)
    assert min(seen) >= b.earliest_firing_s - 1e-9
    assert max(seen) <= b.healthy_s - DRILL.group_wait_s + 1e-9
    # the bound is tight: some phase comes within a second of it
    assert min(seen) - b.earliest_firing_s < DRILL.scrape_s


def test_the_production_window_holds_twenty_scrapes() -> None:
    prod = Timing(scrape_s=15, evaluation_s=15, window_s=300, for_s=60, group_wait_s=30)
    assert (prod.span_min_s, prod.span_max_s, prod.hold_s) == (285, 300, 60)
    assert Timing(1, 15, 30, for_s=20, group_wait_s=1).hold_s == 30  # for rounds up to evaluations
