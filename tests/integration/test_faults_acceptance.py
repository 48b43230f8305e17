"""Issue 5 acceptance on the kwok cluster, with the fabric deployed and baseline traffic.

For each named fault: the steady-state hypothesis holds before; the fault is
observed to take effect (its own proof, and the hypothesis no longer holds);
rollback brings the hypothesis back; ``kubectl get`` shows ConfigMaps,
Secrets and replica counts exactly as before. Bad input and unsafe targets are
refused with a clear message and nothing changes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from chaoslib.hypothesis import run_steady_state_hypothesis
from conftest_faults import NS, VENV_BIN, FaultsFabric, faults_fabric, no_fault_left, wait_for

from pfdrill.chaos import experiment
from pfdrill.chaos.fault import ChaosCatalog
from pfdrill.faults.fault import InjectableFault
from pfdrill.faults.kind import FaultKind

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
__all__ = ["faults_fabric", "no_fault_left"]  # fixtures, imported to be used here

NAMED: list[tuple[str, dict[str, Any]]] = [
    ("adapter_failure", {"variant": "scaled_to_zero", "failure_mode": "fail_closed"}),
    ("adapter_failure", {"variant": "errors", "failure_mode": "fail_open", "error_rate": 1.0}),
    ("certificate_corruption", {"mode": "flip"}),
    ("certificate_corruption", {"mode": "expired", "fraction": 0.5, "rate": 10}),
    ("high_reject_rate", {"multiplier": 12}),
]


def hypothesis(fab: FaultsFabric) -> tuple[bool, list[tuple[str, Any]]]:
    """The scenarios' steady-state hypothesis, evaluated by chaostoolkit-lib."""
    state = run_steady_state_hypothesis({"steady-state-hypothesis": experiment.hypothesis()},
                                        dict(fab.configuration), {}, None, None)
    return bool(state["steady_state_met"]), [(p["activity"]["name"], p["output"]) for p in state["probes"]]


def pfdrill(fab: FaultsFabric, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "pfdrill"), *argv], env=env or fab.env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize(("fault", "params"), NAMED,
                         ids=[f"{f}-{'-'.join(str(v) for v in p.values())}" for f, p in NAMED])
def test_named_fault_takes_effect_and_rollback_restores_everything(
        no_fault_left: FaultsFabric, fault: str, params: dict[str, Any]) -> None:
    fab = no_fault_left
    before = fab.kubectl_snapshot()
    met, probes = hypothesis(fab)
    assert met, probes
    f = InjectableFault(FaultKind.parse(fault), fab.context(), key=f"accept-{fault}")
    f.inject(params)
    proof = wait_for(lambda: (o := f.prove()).proven and o, timeout=90, what=f"{fault} in effect")
    assert proof.proven
    met, probes = hypothesis(fab)
    assert not met, f"the hypothesis still holds with {fault} injected: {probes}"
    f.rollback()
    wait_for(lambda: hypothesis(fab)[0], timeout=120, what="the steady state back", every=1)
    assert fab.kubectl_snapshot() == before


def test_dry_run_and_bad_input_change_nothing(no_fault_left: FaultsFabric, tmp_path: Path) -> None:
    fab = no_fault_left
    before = fab.kubectl_snapshot()
    dry = pfdrill(fab, "fault", "inject", "adapter_failure", "-p", "failure_mode=fail_open", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "ConfigMap policy-config: adapter_failure_mode: 'fail_closed' -> 'fail_open'" in dry.stdout
    assert "Deployment policy-adapter: replicas 1 -> 0" in dry.stdout
    for argv, message in [
        (["meteor_strike"], "unknown fault 'meteor_strike'"),
        (["certificate_corruption", "-p", "mode=expired", "-p", "fraction=1.5"],
         "parameter fraction='1.5' is out of range"),
        (["high_reject_rate", "-p", "multiplier=-3"], "parameter multiplier='-3' is out of range"),
        (["sidecar_pod_loss", "-p", "count=9"], "count=9 is more than the 2 replicas"),
    ]:
        done = pfdrill(fab, "fault", "inject", *argv)
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        assert message in done.stderr and done.stderr.count("\n") == 1, done.stderr
    scenario = experiment.build(experiment.scenario("adapter-failure"))
    del scenario["steady-state-hypothesis"]
    path = tmp_path / "no-hypothesis.json"
    path.write_text(__import__("json").dumps(scenario))
    ran = pfdrill(fab, "fault", "run", str(path), "--journal", str(tmp_path / "j.json"))
    assert ran.returncode == 2 and "no-hypothesis.json: the experiment has no steady-state-hypothesis" in ran.stderr
    chaos = subprocess.run([str(VENV_BIN / "chaos"), "run", "--journal-path", str(tmp_path / "c.json"),
                            str(path)], env=fab.env, capture_output=True, text=True, timeout=300)
    assert chaos.returncode != 0 and "refusing to run" in chaos.stdout + chaos.stderr
    assert fab.kubectl_snapshot() == before
    ctx = fab.context()
    assert ctx.store.active(ctx.context, ctx.namespace) == []


def test_unsafe_targets_are_refused(no_fault_left: FaultsFabric, tmp_path: Path) -> None:
    fab = no_fault_left
    before = fab.kubectl_snapshot()
    config = tmp_path / "pfdrill.yaml"
    config.write_text("allowed_contexts: [staging-drills]\n")
    done = pfdrill(fab, "fault", "inject", "enforcement_disabled", env={**fab.env, "PFDRILL_CONFIG": str(config)})
    assert done.returncode == 4 and "is not on the allow-list" in done.stderr
    kubectl = [str(fab.cluster.kubectl), "label", "namespace", NS]
    subprocess.run([*kubectl, "pfdrill.dev/drills-"], env=fab.cluster.env, check=True, capture_output=True)
    try:
        done = pfdrill(fab, "fault", "inject", "break_glass_left_on")
        assert done.returncode == 4 and "is not opted in to drills" in done.stderr
    finally:
        subprocess.run([*kubectl, "pfdrill.dev/drills=enabled"], env=fab.cluster.env, check=True,
                       capture_output=True)
    assert fab.kubectl_snapshot() == before


def test_game_day_cli_inject_prove_rollback(no_fault_left: FaultsFabric) -> None:
    fab = no_fault_left
    before = fab.kubectl_snapshot()
    done = pfdrill(fab, "fault", "inject", "adapter_failure", "-p", "failure_mode=fail_open")
    assert done.returncode == 0, done.stderr
    assert "roll back with: pfdrill fault rollback --key cli-adapter_failure" in done.stdout
    assert fab.kubectl_snapshot()["replicas"]["policy-adapter"] == 0
    wait_for(lambda: pfdrill(fab, "fault", "prove", "adapter_failure").returncode == 0, timeout=60,
             what="the adapter failure observed")
    done = pfdrill(fab, "fault", "rollback", "--key", "cli-adapter_failure")
    assert done.returncode == 0 and "scaled back to 1" in done.stdout, done.stderr
    assert pfdrill(fab, "fault", "rollback", "--all").stdout.strip() == "no fault is injected"
    assert fab.kubectl_snapshot() == before


def test_drill_catalog_through_chaostoolkit_keeps_the_journals(no_fault_left: FaultsFabric,
                                                               tmp_path: Path) -> None:
    fab = no_fault_left
    before = fab.kubectl_snapshot()
    fault = ChaosCatalog(fab.context(), tmp_path).create("high_reject_rate")
    fault.inject({"multiplier": 3, "baseline_window_s": 5})
    wait_for(lambda: fault.prove().proven, timeout=90, what="3x rejects")
    fault.rollback()
    journal = fault.journal()
    assert journal is not None and journal.status == "completed", journal
    assert journal.steady_state_met
    assert {p.name for p in tmp_path.glob("*.journal.json")} == {
        "drill-high_reject_rate-inject.journal.json", "drill-high_reject_rate-rollback.journal.json"}
    assert fab.kubectl_snapshot() == before
