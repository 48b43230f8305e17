"""Experiments run through chaostoolkit-lib against the simulated fabric on a fake cluster."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import InterruptExecution

from pfdrill.chaos import control, experiment, runner, target
from pfdrill.chaos.fault import ChaosCatalog
from pfdrill.chaos.journal import summarize
from pfdrill.errors import InvalidInput, PermanentFaultError
from pfdrill.faults.fake import FabricWorld, fabric_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[FabricWorld]:
    yield fabric_world(tmp_path)


@pytest.fixture
def pinned(world: FabricWorld) -> Iterator[dict[str, str]]:
    config = target.pin(world.ctx)
    yield {**config, "pfdrill_hold_s": "0"}
    target.unpin(config)


@pytest.mark.parametrize("name", ["enforcement-disabled", "adapter-failure-fail-open",
                                  "certificate-corruption", "dfa-tampering", "break-glass-left-on",
                                  "sidecar-pod-loss", "performance-degradation"])
def test_scenario_runs_to_completion_and_leaves_nothing_changed(
        world: FabricWorld, pinned: dict[str, str], tmp_path: Path, name: str) -> None:
    before = world.snapshot()
    journal_path = tmp_path / "journal.json"
    journal = runner.run(experiment.build(experiment.scenario(name)), variables=pinned,
                         journal_path=journal_path)
    assert runner.succeeded(journal), (journal["status"], journal.get("deviated"))
    assert journal["steady_states"]["before"]["steady_state_met"]
    assert journal["steady_states"]["after"]["steady_state_met"]
    runs = {r["activity"]["name"]: r for r in journal["run"]}
    proof = next(r for n, r in runs.items() if n.endswith("observed in effect"))
    assert proof["status"] == "succeeded" and proof["output"]["proven"]
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert world.snapshot() == before
    assert journal_path.is_file() and journal_path.with_suffix(".log").is_file()
    summary = summarize([journal])
    assert summary.status == "completed" and summary.steady_state_met is True
    assert any(a.name.startswith("inject") for a in summary.activities)


def test_rollbacks_run_when_the_method_fails_midway(world: FabricWorld, pinned: dict[str, str]) -> None:
    """After the injection a pfdrill activity fails: the method stops, the rollbacks still run."""
    before = world.snapshot()
    exp = experiment.build(experiment.scenario("adapter-failure-fail-open"))
    failing = copy.deepcopy(exp["method"][1])  # a proof that cannot hold: nothing under that key
    failing["name"] = "a step that fails"
    failing["provider"]["arguments"].update(fault="break_glass_left_on", key="nothing-here", timeout_s=0)
    exp["method"].insert(1, failing)
    journal = runner.run(exp, variables=pinned)
    assert journal["status"] == "interrupted"
    assert [r["activity"]["name"] for r in journal["run"]] == ["inject adapter_failure", "a step that fails"]
    assert journal["run"][1]["status"] == "failed"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert journal["rollbacks"][0]["output"]["actions"] != ["nothing to restore"]
    assert world.snapshot() == before
    assert not runner.succeeded(journal)


def test_steady_state_not_met_before_means_nothing_is_injected(world: FabricWorld,
                                                               pinned: dict[str, str]) -> None:
    world.cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "monitor"})
    world.cluster.calls.clear()
    journal = runner.run(experiment.build(experiment.scenario("enforcement-disabled")), variables=pinned)
    assert journal["status"] == "failed" and journal["run"] == []
    assert not journal["steady_states"]["before"]["steady_state_met"] and not runner.succeeded(journal)
    assert [c for c in world.cluster.mutations if c[0] != "patch_configmap" or
            c[1][2] != {"enforcement_mode": "monitor"}] == []


def test_bad_experiment_is_refused_before_anything_runs(world: FabricWorld, pinned: dict[str, str]) -> None:
    exp = experiment.build(experiment.scenario("enforcement-disabled"))
    del exp["steady-state-hypothesis"]
    with pytest.raises(InvalidInput, match="no steady-state-hypothesis"):
        runner.run(exp, variables=pinned)
    assert world.cluster.mutations == []


def test_the_control_refuses_a_bad_experiment_under_plain_chaos_run() -> None:
    exp = experiment.build(experiment.scenario("enforcement-disabled"))
    exp["rollbacks"] = []
    with pytest.raises(InterruptExecution, match=r"refusing to run: .*has no rollback_fault"):
        control.before_experiment_control(exp)


def test_the_control_interrupts_only_failed_pfdrill_method_activities() -> None:
    pf = {"name": "inject x", "provider": {"type": "python", "module": "pfdrill.chaos.actions"}}
    other = {"name": "mine", "provider": {"type": "python", "module": "my.module"}}
    failed: dict[str, Any] = {"status": "failed", "exception": ["Traceback", "ProbeFailure: nope\n"]}
    control.after_activity_control(pf, failed)  # outside the method (hypothesis, rollbacks): no
    control.before_method_control({})
    control.after_activity_control(other, failed)
    control.after_activity_control(pf, {"status": "succeeded"})
    with pytest.raises(InterruptExecution, match=r"'inject x' failed, stopping the method .*ProbeFailure: nope"):
        control.after_activity_control(pf, failed)
    control.after_method_control({})


def test_drill_catalog_runs_inject_and_rollback_as_experiments(world: FabricWorld, tmp_path: Path) -> None:
    before = world.snapshot()
    catalog = ChaosCatalog(world.ctx, tmp_path / "journals")
    fault = catalog.create("adapter_failure")
    assert fault.journal() is None
    fault.inject({"variant": "scaled_to_zero", "failure_mode": "fail_open"})
    assert world.snapshot() != before
    assert fault.prove().proven
    fault.rollback()
    fault.rollback()  # idempotent: no second experiment
    assert world.snapshot() == before
    assert [p.name for p in fault.journal_paths] == ["drill-adapter_failure-inject.journal.json",
                                                     "drill-adapter_failure-rollback.journal.json"]
    journal = fault.journal()
    assert journal is not None and journal.status == "completed" and journal.steady_state_met
    assert [a.name for a in journal.activities if not a.name.startswith("steady")] == [
        "inject adapter_failure"]
    assert "roll back adapter_failure" in [a.name for a in journal.rollbacks]
    assert "adapter" in fault.root_cause_terms()


def test_drill_inject_refused_when_the_steady_state_does_not_hold(world: FabricWorld, tmp_path: Path) -> None:
    world.cluster.scale_deployment("production", "policy-adapter", 0)
    fault = ChaosCatalog(world.ctx, tmp_path).create("enforcement_disabled")
    with pytest.raises(PermanentFaultError, match="was not injected"):
        fault.inject({})
    assert world.cluster.get_configmap("production", "policy-config")["enforcement_mode"] == "enforce"
    with pytest.raises(InvalidInput):
        fault.inject({"mode": "off"})


def test_pinned_configuration_must_exist() -> None:
    with pytest.raises(InvalidInput, match="names no context pinned"):
        target.context({target.PINNED: "ctx-nope"})
