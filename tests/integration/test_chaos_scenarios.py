"""Every scenario file under plain ``chaos run`` on the kwok cluster; rollbacks under failure.

``chaos`` is the real chaostoolkit CLI from the venv, configured only through
the environment (``PFDRILL_KUBECONFIG``, ``PFDRILL_CONTEXT``, ...). Each run
must exit 0, leave its journal, and leave ``kubectl get`` as it found it.
Then the ways a run can break: the method failing after the injection,
SIGTERM mid-method (chaostoolkit's rollbacks run), SIGKILL mid-method (the
state file lets ``pfdrill fault rollback`` — or the next run — restore).
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest_faults import REPO, VENV_BIN, FaultsFabric, faults_fabric, no_fault_left, wait_for

from pfdrill.chaos import experiment
from pfdrill.faults.state import Phase

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
__all__ = ["faults_fabric", "no_fault_left"]  # fixtures, imported to be used here

SCENARIOS = sorted((REPO / "scenarios").glob("*.json"))
NAMED = ("adapter-failure", "certificate-corruption", "high-reject-rate")


def chaos(fab: FaultsFabric, scenario: Path, journal: Path, **env: str) -> subprocess.Popen[str]:
    cmd = [str(VENV_BIN / "chaos"), "--log-file", str(journal.with_suffix(".log")), "run",
           "--journal-path", str(journal), str(scenario)]
    return subprocess.Popen(cmd, env={**fab.env, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 600) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def test_the_named_faults_have_scenarios() -> None:
    assert {p.stem for p in SCENARIOS} >= set(NAMED)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_chaos_run_of_each_scenario_exits_0_and_leaves_nothing_changed(
        no_fault_left: FaultsFabric, scenario: Path, tmp_path: Path) -> None:
    fab = no_fault_left
    before = fab.kubectl_snapshot()
    journal_path = tmp_path / "journal.json"
    code, out = finish(chaos(fab, scenario, journal_path, PFDRILL_HOLD_S="2"))
    assert code == 0, out[-3000:]
    journal = json.loads(journal_path.read_text())
    assert journal["status"] == "completed" and not journal["deviated"]
    assert journal["steady_states"]["before"]["steady_state_met"]
    assert journal["steady_states"]["after"]["steady_state_met"]
    proof = next(r for r in journal["run"] if r["activity"]["name"].endswith("observed in effect"))
    assert proof["status"] == "succeeded" and proof["output"]["proven"], proof
    assert fab.kubectl_snapshot() == before


def _with_failing_step(tmp_path: Path) -> Path:
    exp = experiment.build(experiment.scenario("adapter-failure-fail-open"))
    step: dict[str, Any] = json.loads(json.dumps(exp["method"][1]))
    step["name"] = "a step that fails after the injection"
    step["provider"]["arguments"].update(fault="break_glass_left_on", key="nothing-injected", timeout_s=0)
    exp["method"].insert(1, step)
    path = tmp_path / "failing.json"
    path.write_text(json.dumps(exp))
    return path


def test_rollbacks_run_when_the_method_fails_after_its_first_action(
        no_fault_left: FaultsFabric, tmp_path: Path) -> None:
    fab = no_fault_left
    before = fab.kubectl_snapshot()
    journal_path = tmp_path / "journal.json"
    code, out = finish(chaos(fab, _with_failing_step(tmp_path), journal_path))
    assert code != 0, out[-2000:]
    journal = json.loads(journal_path.read_text())
    assert journal["status"] == "interrupted"
    assert [r["status"] for r in journal["run"]] == ["succeeded", "failed"]
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert "scaled back to 1" in json.dumps(journal["rollbacks"][0]["output"])
    assert fab.kubectl_snapshot() == before


def _injected(fab: FaultsFabric, key: str) -> bool:
    ctx = fab.context()
    state = ctx.store.load(ctx.context, ctx.namespace, key)
    return state is not None and state.phase is Phase.INJECTED


@pytest.mark.parametrize("scenario", NAMED)
def test_sigterm_mid_method_still_rolls_back(no_fault_left: FaultsFabric, tmp_path: Path,
                                             scenario: str) -> None:
    fab = no_fault_left
    before = fab.kubectl_snapshot()
    journal_path = tmp_path / "journal.json"
    proc = chaos(fab, REPO / "scenarios" / f"{scenario}.json", journal_path, PFDRILL_HOLD_S="300")
    try:
        wait_for(lambda: _injected(fab, f"scenario-{scenario}") or proc.poll() is not None,
                 timeout=120, what="the injection")
        assert proc.poll() is None, f"chaos exited {proc.returncode}: {proc.communicate()[0][-3000:]}"
        assert fab.kubectl_snapshot() != before or scenario == "high-reject-rate"
        proc.send_signal(signal.SIGTERM)
        code, out = finish(proc, timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stdout is not None and not proc.stdout.closed:
            proc.communicate()  # an early exit's output: read and closed, never leaked
    assert code != 0
    journal = json.loads(journal_path.read_text())
    assert journal["status"] == "interrupted", out[-2000:]
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert fab.kubectl_snapshot() == before
    assert not _injected(fab, f"scenario-{scenario}")


def test_sigkill_mid_method_is_restored_from_the_state_file(no_fault_left: FaultsFabric,
                                                            tmp_path: Path) -> None:
    fab = no_fault_left
    before = fab.kubectl_snapshot()
    proc = chaos(fab, REPO / "scenarios" / "adapter-failure.json", tmp_path / "j.json", PFDRILL_HOLD_S="300")
    try:
        wait_for(lambda: _injected(fab, "scenario-adapter-failure"), timeout=120, what="the injection")
        proc.kill()  # no handler runs: nothing in this process can roll back
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stdout is not None and not proc.stdout.closed:
            proc.communicate()  # an early exit's output: read and closed, never leaked
    assert fab.kubectl_snapshot()["replicas"]["policy-adapter"] == 0
    done = subprocess.run([str(VENV_BIN / "pfdrill"), "fault", "rollback", "--key", "scenario-adapter-failure"],
                          env=fab.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "scaled back to 1" in done.stdout, done.stderr
    assert fab.kubectl_snapshot() == before
