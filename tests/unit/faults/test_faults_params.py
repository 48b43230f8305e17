"""Parameters: every refusal names the fault and the parameter; defaults of every fault are valid."""

from __future__ import annotations

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.faults.fault import check_params, describe_params
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.params import Param, ParamSpec, parse_assignments
from pfdrill.faults.registry import DRIVERS


@pytest.mark.parametrize(("fault", "params", "message"), [
    ("certificate_corruption", {"mode": "expired", "fraction": 1.5},
     r"fault certificate_corruption: parameter fraction=1\.5 is out of range: expected a number in \(0, 1\]"),
    ("witness_failures", {"fraction": "1.5"}, r"parameter fraction='1\.5' is out of range"),
    ("witness_failures", {"fraction": 0}, r"parameter fraction=0 is out of range"),
    ("high_reject_rate", {"multiplier": -3}, r"parameter multiplier=-3 is out of range: expected a number in \(1, 1000\]"),
    ("high_reject_rate", {"multiplier": "twelve"}, r"multiplier='twelve' is not a number"),
    ("high_reject_rate", {"multiplier": True}, r"multiplier=True is not a number"),
    ("adapter_failure", {"variant": "exploded"}, r"parameter variant='exploded' is not one of scaled_to_zero, killed, errors, slow"),
    ("adapter_failure", {"fraction": 0.5}, r"unknown parameter\(s\) fraction \(known: variant, failure_mode"),
    ("sidecar_pod_loss", {"count": 1.5}, r"count=1\.5 is not an integer"),
    ("certificate_corruption", {"mode": "flip", "fraction": 0.5}, r"fraction applies only to the traffic modes"),
    ("break_glass_left_on", {"mode": "x"}, r"unknown parameter\(s\) mode \(known: none\)"),
])
def test_bad_parameters_are_refused_with_one_line_naming_them(fault: str, params: dict[str, object],
                                                              message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        check_params(fault, params)  # type: ignore[arg-type]
    assert "\n" not in str(err.value) and err.value.exit_code == 2


def test_unknown_fault_lists_the_catalog() -> None:
    with pytest.raises(InvalidInput, match=r"unknown fault 'bogus' \(known: adapter_failure, "):
        FaultKind.parse("bogus")
    assert FaultKind.parse("high-reject-rate") is FaultKind.HIGH_REJECT_RATE


@pytest.mark.parametrize("kind", list(FaultKind))
def test_every_fault_has_valid_defaults_and_describes_its_parameters(kind: FaultKind) -> None:
    driver = DRIVERS[kind]
    assert driver.kind is kind and driver.summary and driver.terms
    resolved = driver.validate({})
    assert driver.validate(resolved) == resolved  # resolving is idempotent
    assert len(describe_params(kind)) == len(driver.spec.params)


def test_registry_covers_the_enum() -> None:
    assert set(DRIVERS) == set(FaultKind)


def test_numbers_from_strings_are_normalised() -> None:
    assert check_params("high_reject_rate", {"multiplier": "12"})["multiplier"] == 12.0
    assert check_params("sidecar_pod_loss", {"count": "2"})["count"] == 2
    assert check_params("adapter_failure", {"variant": " Killed "})["variant"] == "killed"


def test_param_range_text() -> None:
    assert Param("x", "", low=0, high=1, low_open=True).describe_range() == "a number in (0, 1]"
    assert Param("n", "", low=1, integer=True).describe_range() == "an integer in [1, inf)"
    assert ParamSpec().resolve("f", {}) == {}


def test_assignments() -> None:
    assert parse_assignments(["a=1", "b = x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(InvalidInput, match=r"--param 'oops': expected NAME=VALUE"):
        parse_assignments(["oops"])


def test_static_catalog_validates_like_the_real_one_and_never_injects() -> None:
    from pfdrill.errors import EnvironmentProblem
    from pfdrill.faults.catalog import CATALOG

    assert list(CATALOG.names()) == [k.value for k in FaultKind]
    fault = CATALOG.create("high-reject-rate")
    fault.validate({"multiplier": 12})
    with pytest.raises(InvalidInput, match="multiplier=-1 is out of range"):
        fault.validate({"multiplier": -1})
    with pytest.raises(InvalidInput, match="unknown fault"):
        CATALOG.create("nope")
    with pytest.raises(EnvironmentProblem, match="only validates"):
        fault.inject({"multiplier": 12})
    fault.rollback()
    assert fault.journal() is None and "reject" in fault.root_cause_terms()
