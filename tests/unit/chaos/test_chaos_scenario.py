"""Scenario files: pfdrill's rules on top of chaostoolkit's, with file and line in every error."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pfdrill.chaos import experiment, runner, scenario
from pfdrill.errors import InvalidInput

REPO = Path(__file__).resolve().parents[3]
SCENARIOS = REPO / "scenarios"


def test_committed_scenarios_are_exactly_what_the_builder_writes() -> None:
    files = sorted(p.name for p in SCENARIOS.glob("*.json"))
    assert files == sorted(f"{s.name}.json" for s in experiment.SCENARIOS)
    for spec in experiment.SCENARIOS:
        assert (SCENARIOS / f"{spec.name}.json").read_text() == experiment.render(spec), spec.name


def test_every_fault_has_a_scenario() -> None:
    from pfdrill.faults.kind import FaultKind

    assert {s.fault for s in experiment.SCENARIOS} == set(FaultKind)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.json")), ids=lambda p: p.stem)
def test_every_scenario_passes_chaostoolkit_and_pfdrill_validation(path: Path) -> None:
    data, where = scenario.load(path)
    runner.validate(data, path, where)
    assert data["runtime"]["rollbacks"]["strategy"] == "always"
    assert data["steady-state-hypothesis"]["probes"]


def _base() -> dict[str, Any]:
    return experiment.build(experiment.scenario("adapter-failure"))


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def _check(tmp_path: Path, data: dict[str, Any]) -> None:
    path = _write(tmp_path, data)
    loaded, where = scenario.load(path)
    runner.validate(loaded, path, where)


def test_missing_hypothesis_is_refused_naming_the_file(tmp_path: Path) -> None:
    data = _base()
    del data["steady-state-hypothesis"]
    with pytest.raises(InvalidInput, match=r"scenario\.json: the experiment has no steady-state-hypothesis"):
        _check(tmp_path, data)


def test_probe_without_tolerance_is_refused_with_its_line(tmp_path: Path) -> None:
    data = _base()
    del data["steady-state-hypothesis"]["probes"][1]["tolerance"]
    with pytest.raises(InvalidInput) as err:
        _check(tmp_path, data)
    assert "steady-state probe 'every watcher enforces' has no tolerance" in str(err.value)
    text = _write(tmp_path, data).read_text().splitlines()
    assert err.value.line is not None and "{" in text[err.value.line - 1]


def test_injection_without_rollback_is_refused(tmp_path: Path) -> None:
    data = _base()
    data["rollbacks"] = []
    with pytest.raises(InvalidInput, match=r"inject_fault of 'adapter_failure' \(key '\$\{pfdrill_key\}'\) "
                                           r"has no rollback_fault"):
        _check(tmp_path, data)


def test_rollback_strategy_must_be_always(tmp_path: Path) -> None:
    data = _base()
    data["runtime"] = {"rollbacks": {"strategy": "default"}}
    with pytest.raises(InvalidInput, match=r"runtime\.rollbacks\.strategy must be 'always'"):
        _check(tmp_path, data)
    del data["runtime"]
    with pytest.raises(InvalidInput, match="it is None"):
        _check(tmp_path, data)


@pytest.mark.parametrize(("params", "message"), [
    ({"variant": "melted"}, "parameter variant='melted' is not one of"),
    ({"fraction": 1.5}, r"unknown parameter\(s\) fraction"),
])
def test_bad_fault_parameters_in_a_scenario(tmp_path: Path, params: dict[str, Any], message: str) -> None:
    data = _base()
    data["method"][0]["provider"]["arguments"]["params"] = params
    with pytest.raises(InvalidInput, match=message) as err:
        _check(tmp_path, data)
    assert err.value.file and err.value.file.endswith("scenario.json") and err.value.line


def test_unknown_fault_in_a_scenario(tmp_path: Path) -> None:
    data = _base()
    data["method"][0]["provider"]["arguments"]["fault"] = "meteor_strike"
    with pytest.raises(InvalidInput, match="unknown fault 'meteor_strike'"):
        _check(tmp_path, data)


def test_chaostoolkit_rules_still_apply(tmp_path: Path) -> None:
    data = _base()
    del data["description"]
    with pytest.raises(InvalidInput, match="not a valid chaostoolkit experiment: experiment requires a description"):
        _check(tmp_path, data)


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read the experiment"):
        scenario.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nmethod: [\n")
    with pytest.raises(InvalidInput, match=r"bad\.yaml:\d+: not valid JSON/YAML"):
        scenario.load(bad)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(InvalidInput, match="must be a mapping"):
        scenario.load(listed)


def test_yaml_scenarios_work_too(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_base(), sort_keys=False))
    data, where = scenario.load(path)
    runner.validate(data, path, where)


def test_drill_inject_experiment_defers_its_rollback() -> None:
    from pfdrill.faults.kind import FaultKind

    inject = experiment.inject_experiment(FaultKind.HIGH_REJECT_RATE, {"multiplier": 3}, "drill-x")
    assert scenario.deferred_rollback(inject)
    runner.validate(inject)
    undo = experiment.rollback_experiment(FaultKind.HIGH_REJECT_RATE, "drill-x")
    runner.validate(undo)
    plain = copy.deepcopy(inject)
    plain["extensions"] = []
    with pytest.raises(InvalidInput, match="has no rollback_fault"):
        runner.validate(plain)
