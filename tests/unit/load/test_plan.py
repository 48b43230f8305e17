from __future__ import annotations

import math
from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.load.plan import PER_USER_RPS, LoadPlan, TrafficKind
from pfdrill.load.stats import KindStats, LoadStats


def test_baseline_mix_and_scaling() -> None:
    base = LoadPlan.baseline("http://127.0.0.1:1", rate=50)
    assert base.total_rate == pytest.approx(50)
    assert base.rates[TrafficKind.COMPLIANT] == pytest.approx(48.375)  # 96.75%
    surge = base.scaled(TrafficKind.VIOLATING, 10)
    assert surge.rates[TrafficKind.VIOLATING] == pytest.approx(10)
    assert surge.rates[TrafficKind.COMPLIANT] == base.rates[TrafficKind.COMPLIANT]
    assert base.rates[TrafficKind.VIOLATING] == pytest.approx(1)  # the original is unchanged


def test_users_carry_at_most_the_per_user_rate() -> None:
    plan = LoadPlan("http://127.0.0.1:1", {TrafficKind.COMPLIANT: 95, TrafficKind.VIOLATING: 0})
    assert plan.users(TrafficKind.COMPLIANT) == math.ceil(95 / PER_USER_RPS)
    assert plan.users(TrafficKind.VIOLATING) == 0 and plan.total_users == plan.users(TrafficKind.COMPLIANT)


@pytest.mark.parametrize("kwargs", [
    {"target": "127.0.0.1:8080", "rates": {TrafficKind.COMPLIANT: 1}},
    {"target": "http://x", "rates": {TrafficKind.COMPLIANT: -1}},
    {"target": "http://x", "rates": {TrafficKind.COMPLIANT: 0}},
    {"target": "http://x", "rates": {TrafficKind.COMPLIANT: float("inf")}},
    {"target": "http://x", "rates": {TrafficKind.COMPLIANT: 1}, "duration_s": 0},
    {"target": "http://x", "rates": {TrafficKind.COMPLIANT: 1}, "extra_targets": ("ftp://y",)},
])
def test_bad_plans_are_invalid_input(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        LoadPlan(**kwargs)  # type: ignore[arg-type]


def test_plan_file_round_trip_and_errors(tmp_path: Path) -> None:
    plan = LoadPlan.baseline("http://127.0.0.1:1", 10, duration_s=5, extra_targets=("http://127.0.0.1:2",))
    plan.save(tmp_path / "p.json")
    assert LoadPlan.load(tmp_path / "p.json") == plan
    (tmp_path / "bad.json").write_text('{"target": "http://x", "rates": {"weird": 1}}')
    with pytest.raises(InvalidInput, match=r"bad\.json: "):
        LoadPlan.load(tmp_path / "bad.json")


def test_stats_round_trip() -> None:
    stats = LoadStats(3.0, 10, 1, 3.3, 3.0, {"p50": 1.0, "p95": 2.0, "p99": 3.0},
                      {"compliant": KindStats(8, 8, 0, 0, 0), "violating": KindStats(2, 0, 2, 0, 0)},
                      {"dfa": 2}, finished=True)
    assert LoadStats.from_dict(stats.to_dict()) == stats
    assert stats.rejects == 2 and "10 requests" in stats.summary()


def test_excluded_variants_survive_the_plan_file(tmp_path: Path) -> None:
    plan = LoadPlan("http://127.0.0.1:1", {TrafficKind.VIOLATING: 5}, exclude=("violating:ni",))
    plan.save(tmp_path / "plan.json")
    assert LoadPlan.load(tmp_path / "plan.json").exclude == ("violating:ni",)
