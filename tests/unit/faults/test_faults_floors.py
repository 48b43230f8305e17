"""Faults that aim at a relative threshold: the alert rules' baseline floors, and the drill's baseline."""

from __future__ import annotations

import pytest

from pfdrill.classify import thresholds
from pfdrill.faults import degradation, metrics, registry
from pfdrill.faults.fake import FabricWorld as World
from pfdrill.faults.fault import InjectableFault
from pfdrill.faults.kind import FaultKind

TABLE = thresholds.load()


def test_faults_take_their_floors_from_the_threshold_table() -> None:
    assert metrics.baseline_floor("reject_rate") == TABLE.floor("reject_rate") == 0.1
    assert degradation.effective_ms(1.0) == 1000 * TABLE.floor("latency_mean_seconds") == 5.0
    assert degradation.effective_ms(20.0) == 20.0


@pytest.mark.parametrize(("baseline_ms", "percent", "mean_after_ms"), [
    (3.0, 60, 8.0),     # below the floor: 60% over the 5 ms floor
    (5.0, 30, 6.5),     # at the floor
    (20.0, 60, 32.0),   # above it: 60% over the measured mean
])
def test_added_latency_lands_the_mean_percent_above_the_effective_baseline(
        baseline_ms: float, percent: float, mean_after_ms: float) -> None:
    assert baseline_ms + degradation.added_ms(baseline_ms, percent) == pytest.approx(mean_after_ms)


def test_a_drill_passes_its_published_baseline_to_the_faults_that_aim_at_a_multiple() -> None:
    published = {"reject_rate": 0.7, "latency_mean_seconds": 0.003}
    assert registry.baseline_params("high_reject_rate", published) == {"baseline_rate": 0.7}
    assert registry.baseline_params("performance_degradation", published) == {
        "baseline_latency_ms": pytest.approx(3.0)}
    assert registry.baseline_params("enforcement_disabled", published) == {}
    assert registry.baseline_params("no_such_fault", published) == {}
    assert registry.baseline_params("high_reject_rate", {}) == {}


def test_a_given_latency_baseline_is_used_instead_of_a_measurement(world: World) -> None:
    f = InjectableFault(FaultKind.PERFORMANCE_DEGRADATION, world.ctx, key="given")
    f.inject({"percent": 60, "baseline_latency_ms": 20.0})
    state = f.state()
    assert state is not None
    assert state.measured["baseline_latency_ms"] == 20.0
    assert state.measured["added_ms"] == pytest.approx(12.0)
    f.rollback()
