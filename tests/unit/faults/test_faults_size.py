"""Fault sizes as the alert rules' rates see them: each model is its fault's own arithmetic."""

from __future__ import annotations

import pytest

from pfdrill.detect.bound import OperatingPoint, Rates
from pfdrill.faults import degradation, reject, size
from pfdrill.faults.kind import FaultKind

QUIET = OperatingPoint()


def test_a_reject_spike_aims_at_the_published_baseline_like_the_fault() -> None:
    point = OperatingPoint({"reject_rate": Rates(0.65)}, {"reject_rate": 0.7})
    found = size.step("high_reject_rate", {"multiplier": 12}, point)
    assert found is not None
    signal, step = found
    assert signal == "reject_rate" and step.before == Rates(0.65)
    assert step.after.num == pytest.approx(0.65 + reject.aim(12, 0.7).extra)
    # below the floor the fault aims at 12 x 0.1/s, as the rule divides by 0.1/s
    quiet = size.step("high_reject_rate", {"multiplier": 12}, QUIET)
    assert quiet is not None and quiet[1].after.num == pytest.approx(1.2)


def test_latency_grows_by_the_degradation_fault_s_added_time_per_decision() -> None:
    point = OperatingPoint({"latency_mean_seconds": Rates(0.003 * 20, 20)},
                           {"latency_mean_seconds": 0.003})
    step = size.MODELS[FaultKind.PERFORMANCE_DEGRADATION].step_for({"percent": 60}, point)
    assert step is not None
    assert step.after.value == pytest.approx(0.003 + degradation.added_ms(3.0, 60) / 1000)
    assert step.after.value == pytest.approx(0.008)  # 60 % over the 5 ms floor
    assert size.step("performance_degradation", {"percent": 60}, QUIET) is None  # nothing to scale


def test_certificate_modes_move_the_failure_ratio_or_nothing() -> None:
    wrong = size.step("certificate_corruption", {"mode": "wrong_key"}, QUIET)
    assert wrong is not None and wrong[1].after.value == 1.0
    assert size.step("certificate_corruption", {"mode": "flip"}, QUIET) is None
    traffic = size.step("certificate_corruption", {"mode": "expired", "fraction": 0.5, "rate": 10},
                        OperatingPoint({"cert_failure_ratio": Rates(0.05, 20)}))
    assert traffic is not None and traffic[1].after == Rates(5.05, 30)


def test_only_the_erroring_adapter_is_sized() -> None:
    assert size.step("adapter_failure", {"variant": "scaled_to_zero"}, QUIET) is None
    errors = size.step("adapter_failure", {"variant": "errors", "error_rate": 0.3},
                       OperatingPoint({"adapter_error_ratio": Rates(0.0, 20)}))
    assert errors is not None and errors[1].after.value == pytest.approx(0.3)
    assert size.step("enforcement_disabled", {}, QUIET) is None


def test_a_model_knows_its_parameter_range_and_the_signal_at_a_size() -> None:
    model = size.MODELS[FaultKind.WITNESS_FAILURES]
    spec = model.spec()
    assert (model.param, spec.low, spec.high, spec.low_open) == ("fraction", 0.0, 1.0, True)
    point = OperatingPoint({"witness_failure_ratio": Rates(0.2, 20)})
    assert model.value_at(0.5, {"rate": 20}, point) == pytest.approx(10.2 / 40)
    assert [m.kind for m in size.for_signal("reject_rate")] == [FaultKind.HIGH_REJECT_RATE]
