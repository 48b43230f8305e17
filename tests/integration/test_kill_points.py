"""Safety, proven on the kwok stack (issue 11, Prove): kill at any point, one at a time,
never the wrong target, random fault sequences.

One short drill (``adapter-fail-open`` with a held runbook section) is started
again and again on the session's kwok cluster and stopped at a different point
each time — phase boundaries and inside the long phases (mid-inject,
mid-runbook-section, mid-restore) — by SIGKILL, SIGTERM or Ctrl-C (SIGINT to
its process group, as a terminal sends it). After a SIGKILL the next
``pfdrill`` invocation, either the next drill or ``pfdrill restore`` by hand,
finds the unfinished drill, restores first and says so; after SIGTERM and
Ctrl-C the drill restores itself. Each time, once restored, the fabric is in
steady state: ``enforce``, ConfigMaps and replicas as deployed, no fault
worker, no locust, no port-forward, nothing the killed run started, no lease
held.

A lease left by a run on another host is taken over once it expires; a context
off the allow-list and a namespace not opted in are refused before any change
(no resourceVersion moves); a hypothesis state machine injects, interrupts,
rolls back and restores faults in random order.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import world_support
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from test_trust import BIN, HOLD_S, HOLDS, NS, REPO, _held_runbook, _suite, pfdrill, stack, versions

from pfdrill.cluster import lease
from pfdrill.proc import lineage

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

__all__ = ["stack"]  # the module fixture shared with test_trust

DRILL = "adapter-fail-open"
HELD = "Drill Hold / Hold"


class Run:
    """One ``pfdrill drill run`` in its own process group, its output read as it comes."""

    def __init__(self, env: dict[str, str], suite: Path, reports: Path) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "pfdrill"), "drill", "run", str(suite), "--name", env["PFDRILL_CLUSTER"],
             "--reports", str(reports)], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, cwd=REPO, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def finished_phase(self, phase: str) -> bool:
        """The progress printer's line for ``phase`` is out (any status)."""
        return any(re.match(rf"^\s+\S\s+{phase}\s", line) for line in self.lines)

    def wait(self, timeout: float = 900) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reader.join(timeout=30)
            assert self.proc.stdout is not None
            self.proc.stdout.close()
        return code


@dataclasses.dataclass(frozen=True)
class Point:
    """Where to stop the drill, how, and which invocation comes next."""

    name: str
    at: Callable[[Run, Any], bool]
    sig: signal.Signals = signal.SIGKILL
    release: bool = True  # let the held runbook section go on (False: stop inside it)
    then_by_hand: bool = False  # after a SIGKILL: `pfdrill restore` (else: the next drill)
    kill_after_s: float | None = None  # SIGKILL this long after ``sig``: mid-restore


def _adapter_replicas(cluster: Any) -> int:
    return int(cluster.client.get_deployment(NS, "policy-adapter").replicas)


def _holding(run: Run, cluster: Any) -> str | None:
    holder = cluster.client.lease_holder(NS, lease.LEASE_NAME)
    return holder if holder and f"/{run.proc.pid}/" in holder else None


def _in_hold(run: Run, cluster: Any) -> bool:
    """The held runbook section's shell is waiting (a `sleep 1` carrying the run's mark)."""
    holder = _holding(run, cluster)
    if holder is None:
        return False
    for pid in lineage.left_by(holder):
        try:
            if psutil.Process(pid).cmdline() == ["sleep", "1"]:
                return True
        except psutil.Error:
            continue
    return False


POINTS = (
    Point("preflight: lease taken", lambda r, c: _holding(r, c) is not None),
    Point("after preflight", lambda r, c: r.finished_phase("preflight"), then_by_hand=True),
    Point("mid-inject", lambda r, c: not r.finished_phase("inject") and
          r.finished_phase("preflight") and _adapter_replicas(c) == 0),
    Point("after inject, Ctrl-C", lambda r, c: r.finished_phase("inject"), sig=signal.SIGINT),
    Point("after detect", lambda r, c: r.finished_phase("detect")),
    Point("after classify", lambda r, c: r.finished_phase("classify"), then_by_hand=True),
    Point("mid-runbook-section", _in_hold, release=False),
    Point("mid-runbook-section, SIGTERM", _in_hold, sig=signal.SIGTERM, release=False),
    # SIGTERM mid-runbook: the drill rolls back the fault and restores its snapshot; a
    # SIGKILL half a second in stops it in the middle of that restore
    Point("mid-restore", _in_hold, sig=signal.SIGTERM, release=False, kill_after_s=0.5),
    Point("after respond", lambda r, c: r.finished_phase("respond"), then_by_hand=True),
    Point("after mitigate", lambda r, c: r.finished_phase("mitigate")),
    Point("after recover", lambda r, c: r.finished_phase("recover"), then_by_hand=True),
)
# `make test` kills at ten points (issue 11 asks for at least ten): every kind — SIGKILL restored
# by the next drill and by hand, Ctrl-C, SIGTERM, a kill mid-restore — and every phase
# boundary up to the runbook; the two left out (after respond, after mitigate) cost a whole
# runbook section each. `make kill-points` (PFDRILL_KILL_POINTS=all) runs all twelve.
QUICK = ("preflight: lease taken", "after preflight", "mid-inject", "after inject, Ctrl-C",
         "after detect", "after classify", "mid-runbook-section", "mid-runbook-section, SIGTERM",
         "mid-restore", "after recover")
RUN_POINTS = POINTS if os.environ.get("PFDRILL_KILL_POINTS") == "all" else tuple(
    p for p in POINTS if p.name in QUICK)


def _deployed(cluster: Any) -> dict[str, Any]:
    """ConfigMap data and Deployment replicas in the namespace: what a restore puts back."""
    out: dict[str, Any] = {}
    for kind in ("configmaps", "deployments"):
        got = subprocess.run([str(cluster.kubectl), "get", kind, "-n", NS, "-o", "json"],
                             env=cluster.env, capture_output=True, text=True, timeout=60,
                             check=True)
        for item in json.loads(got.stdout)["items"]:
            name = item["metadata"]["name"]
            if kind == "configmaps" and name != "kube-root-ca.crt":
                out[f"configmap/{name}"] = item.get("data", {})
            elif kind == "deployments":
                out[f"deployment/{name}"] = item["spec"]["replicas"]
    return out


def _assert_steady(cluster: Any, env: dict[str, str], deployed: dict[str, Any],
                   killed: str | None, where: str) -> None:
    assert cluster.client.lease_holder(NS, lease.LEASE_NAME) is None, where
    now = _deployed(cluster)
    assert now["configmap/policy-config"]["enforcement_mode"] == "enforce", where
    assert now == deployed, where
    assert world_support.left_running(env["PFDRILL_STATE_DIR"]) == [], where
    if killed is not None:
        assert lineage.left_by(killed) == [], f"{where}: the killed run's processes remain"


@pytest.fixture(scope="module")
def fabric(stack: Any) -> Iterator[tuple[Any, dict[str, str], dict[str, Any]]]:
    cluster, env = stack
    env = {**env, "PFDRILL_CLUSTER": cluster.name}
    deployed = pfdrill(env, "fabric", "deploy", "--name", cluster.name)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    for clean in (("fault", "rollback", "--all"), ("restore",)):  # a clean slate to start from
        done = pfdrill(env, *clean, "--name", cluster.name)
        assert done.returncode == 0, done.stdout + done.stderr
    yield cluster, env, _deployed(cluster)


def _held_suite(tmp: Path, release: Path) -> Path:
    suite = _suite(tmp, DRILL, _held_runbook(tmp, release),
                   respond=HOLDS * HOLD_S + 240, resolve=HOLDS * HOLD_S + 600)
    doc = yaml.safe_load(suite.read_text())
    doc["drills"][0]["runbook"] = {**doc["drills"][0]["runbook"], "respond": [
        HELD, *doc["drills"][0]["runbook"]["respond"]]}  # first: held a minute in
    suite.write_text(yaml.safe_dump(doc, sort_keys=False))
    return suite


def _stop(run: Run, cluster: Any, point: Point, timeout: float = 900) -> str:
    """Wait for ``point``, send its signal; the run's holder."""
    deadline = time.monotonic() + timeout
    holder = None
    while time.monotonic() < deadline and run.proc.poll() is None:
        holder = _holding(run, cluster) or holder
        if point.at(run, cluster):
            break
        time.sleep(0.1)
    else:
        run.wait(timeout=5)
        raise AssertionError(f"{point.name}: never reached\n{run.output[-4000:]}")
    holder = _holding(run, cluster) or holder
    assert holder is not None, f"{point.name}: no lease held\n{run.output[-2000:]}"
    if point.sig is signal.SIGINT:
        os.killpg(run.proc.pid, signal.SIGINT)  # Ctrl-C: the terminal's whole process group
    else:
        run.proc.send_signal(point.sig)
    if point.kill_after_s is not None:
        time.sleep(point.kill_after_s)
        run.proc.send_signal(signal.SIGKILL)
    return holder


def test_killed_at_any_point_the_next_invocation_restores_first_and_says_so(
        fabric: tuple[Any, dict[str, str], dict[str, Any]], tmp_path: Path) -> None:
    cluster, env, deployed = fabric
    figures = {"kill points": 0, "SIGKILL": 0, "SIGTERM": 0, "SIGINT": 0, "by hand": 0}
    pending: str | None = None  # the holder of a SIGKILLed run the next drill must restore
    for i, point in enumerate(RUN_POINTS):
        work = tmp_path / f"{i:02d}"
        work.mkdir()
        release = work / "release"
        if point.release:
            release.touch()
        run = Run(env, _held_suite(work, release), work / "reports")
        try:
            holder = _stop(run, cluster, point)
        finally:
            release.touch()
        code = run.wait()
        if pending is not None:
            assert "restored first what a killed run left" in run.output, \
                f"{point.name}: the run after a kill did not say it restored\n{run.output}"
            assert lease.RunHolder.parse(pending).run_id in run.output, run.output  # type: ignore[union-attr]
            assert lineage.left_by(pending) == []
            pending = None
        figures["kill points"] += 1
        killed = signal.SIGKILL if point.kill_after_s is not None else point.sig
        figures[killed.name] += 1
        if killed is not signal.SIGKILL:  # the drill restored itself before it exited
            assert code != 0, f"{point.name}: exit {code}\n{run.output}"
            _assert_steady(cluster, env, deployed, holder, point.name)
            continue
        assert code == -signal.SIGKILL
        assert cluster.client.lease_holder(NS, lease.LEASE_NAME) == holder, point.name
        if point.then_by_hand or point is RUN_POINTS[-1]:
            done = pfdrill(env, "restore", "--name", cluster.name)
            assert done.returncode == 0, f"{point.name}: {done.stdout}{done.stderr}"
            assert "restored what a killed run left" in done.stdout, done.stdout
            assert f"killed run {lease.RunHolder.parse(holder).run_id}" in done.stdout  # type: ignore[union-attr]
            figures["by hand"] += 1
            _assert_steady(cluster, env, deployed, holder, point.name)
        else:
            pending = holder
    again = pfdrill(env, "restore", "--name", cluster.name)
    assert again.returncode == 0 and "nothing to restore" in again.stdout, again.stdout
    print(f"kill points survived: {figures}")
    assert figures["kill points"] == len(RUN_POINTS) and len(QUICK) == len(
        [p for p in POINTS if p.name in QUICK])


def test_a_lease_left_by_a_run_elsewhere_is_taken_over_once_it_expires(
        fabric: tuple[Any, dict[str, str], dict[str, Any]]) -> None:
    """A run on another host cannot be told dead from here: its lease refuses (exit 3,
    naming it) until it expires, then the next invocation takes it over."""
    cluster, env, deployed = fabric
    gone = "pfdrill/another-host/4242/vanished"
    assert cluster.client.acquire_lease(NS, lease.LEASE_NAME, gone, 5)
    try:
        refused = pfdrill(env, "fault", "inject", "enforcement_disabled", "--name", cluster.name)
        assert refused.returncode == 3 and gone in refused.stderr, refused.stderr
        assert _deployed(cluster) == deployed  # refused before any change
        time.sleep(6)
        taken = pfdrill(env, "fault", "inject", "enforcement_disabled", "--name", cluster.name)
        assert taken.returncode == 0, taken.stdout + taken.stderr
        assert cluster.client.lease_holder(NS, lease.LEASE_NAME) == \
            lease.fault_holder("cli-enforcement_disabled")
    finally:
        back = pfdrill(env, "fault", "rollback", "--all", "--name", cluster.name)
    assert back.returncode == 0, back.stdout + back.stderr
    _assert_steady(cluster, env, deployed, None, "after the takeover")


def test_a_lease_left_by_an_injection_killed_before_its_record_is_let_go_by_the_named_command(
        fabric: tuple[Any, dict[str, str], dict[str, Any]]) -> None:
    """SIGKILL between the fault lease and the fault's first record leaves the lease (up to
    FAULT_LEASE_S) and nothing else: the refusal names the rollback, which lets it go."""
    cluster, env, deployed = fabric
    left = lease.fault_holder("cli-enforcement_disabled")
    assert cluster.client.acquire_lease(NS, lease.LEASE_NAME, left, lease.FAULT_LEASE_S)
    try:
        refused = pfdrill(env, "fault", "inject", "sidecar_pod_loss", "--name", cluster.name)
        assert refused.returncode == 3, refused.stderr
        assert "pfdrill fault rollback --key cli-enforcement_disabled" in refused.stderr
        assert _deployed(cluster) == deployed  # refused before any change
        dry = pfdrill(env, "fault", "rollback", "--key", "cli-enforcement_disabled", "--dry-run",
                      "--name", cluster.name)
        assert dry.returncode == 0 and "would release the lease" in dry.stdout, dry.stderr
        assert cluster.client.lease_holder(NS, lease.LEASE_NAME) == left
        let_go = pfdrill(env, "fault", "rollback", "--key", "cli-enforcement_disabled",
                         "--name", cluster.name)
        assert let_go.returncode == 0, let_go.stderr
        assert "is injected: its injection stopped before any change" in let_go.stdout
        assert cluster.client.lease_holder(NS, lease.LEASE_NAME) is None
        # a key nobody holds or recorded is still an error, and releases nothing
        unknown = pfdrill(env, "fault", "rollback", "--key", "nothing-here", "--name", cluster.name)
        assert unknown.returncode == 2 and "no fault with key 'nothing-here'" in unknown.stderr
    finally:
        cluster.client.release_lease(NS, lease.LEASE_NAME, left)
    _assert_steady(cluster, env, deployed, None, "after the lease was let go")


SEQUENCE_FAULTS = ("enforcement_disabled", "sidecar_pod_loss", "ni_reject_burst", "dfa_tampering")


class FaultSequences(RuleBasedStateMachine):
    """Faults injected, interrupted (Ctrl-C mid-inject), rolled back and restored in random
    order with the ``pfdrill`` entry points; after every step the Lease is held exactly by
    the injected fault, and whenever nothing is injected the fabric is in steady state."""

    cluster: Any
    env: dict[str, str]
    deployed: dict[str, Any]
    steps = 0

    def __init__(self) -> None:
        super().__init__()
        self.held: str | None = None  # the fault injected by hand, holding the lease
        self.unsure = False  # an interrupted inject may have left part of a fault

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        FaultSequences.steps += 1
        return pfdrill(self.env, *args, "--name", self.cluster.name, timeout=300)

    @rule(fault=st.sampled_from(SEQUENCE_FAULTS))
    def inject(self, fault: str) -> None:
        done = self._run("fault", "inject", fault)
        if self.held is None and not self.unsure:
            assert done.returncode == 0, done.stdout + done.stderr
            self.held = fault
        elif self.held is not None:
            assert done.returncode == 3, done.stdout + done.stderr
            assert f"cli-{self.held}" in done.stderr, done.stderr
        elif done.returncode == 0:
            self.held = fault

    @precondition(lambda self: self.held is None)
    @rule(fault=st.sampled_from(SEQUENCE_FAULTS), after_s=st.floats(0.5, 4.0))
    def interrupt_inject(self, fault: str, after_s: float) -> None:
        FaultSequences.steps += 1
        proc = subprocess.Popen([str(BIN / "pfdrill"), "fault", "inject", fault, "--name",
                                 self.cluster.name], env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=REPO, start_new_session=True)
        time.sleep(after_s)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=120)
        self.unsure = True

    @rule()
    def rollback(self) -> None:
        done = self._run("fault", "rollback", "--all")
        assert done.returncode == 0, done.stdout + done.stderr
        self.held, self.unsure = None, False

    @rule()
    def restore(self) -> None:
        done = self._run("restore")
        if self.held is not None:
            assert done.returncode == 3 and f"cli-{self.held}" in done.stderr, done.stderr
        elif not self.unsure:
            assert done.returncode == 0 and "nothing to restore" in done.stdout, done.stdout

    @invariant()
    def steady_unless_injected(self) -> None:
        if self.held is not None:
            assert self.cluster.client.lease_holder(NS, lease.LEASE_NAME) == \
                lease.fault_holder(f"cli-{self.held}")
        elif not self.unsure:
            _assert_steady(self.cluster, self.env, self.deployed, None, "fault sequence")

    def teardown(self) -> None:
        if self.held is not None or self.unsure:
            self.rollback()
        _assert_steady(self.cluster, self.env, self.deployed, None, "after the sequence")


def test_random_fault_sequences_leave_the_fabric_as_deployed(
        fabric: tuple[Any, dict[str, str], dict[str, Any]]) -> None:
    FaultSequences.cluster, FaultSequences.env, FaultSequences.deployed = fabric
    FaultSequences.steps = 0
    run_state_machine_as_test(FaultSequences, settings=settings(
        max_examples=1, stateful_step_count=24, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    print(f"state-machine steps: {FaultSequences.steps}")
    assert FaultSequences.steps >= 20


def test_the_wrong_target_is_refused_before_any_change(
        fabric: tuple[Any, dict[str, str], dict[str, Any]], tmp_path: Path) -> None:
    """A context off the allow-list (the same cluster under another name) and a namespace
    without the opt-in label: every entry point exits 4, no object's resourceVersion moves."""
    cluster, env, _ = fabric
    doc = yaml.safe_load(cluster.kubeconfig.read_text())
    ctx = next(c for c in doc["contexts"] if c["name"] == cluster.context)
    doc["contexts"].append({"name": "prod", "context": dict(ctx["context"])})
    doc["current-context"] = "prod"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(doc))
    unlabelled = tmp_path / "pfdrill.yaml"
    unlabelled.write_text("namespace: default\n")
    wrong = {
        "context off the allow-list": ["--provider", "existing", "--kubeconfig", str(kubeconfig),
                                       "--context", "prod"],
        "namespace not opted in": ["--name", cluster.name, "--config", str(unlabelled)],
    }
    before = versions(cluster)
    refused = 0
    for why, target in wrong.items():
        by_hand = [a for a in target if a != "--provider" and a != "existing"]
        for args in (["drill", "run", str(REPO / "drills" / "weekly.yaml"), "--only", DRILL,
                      "--reports", str(tmp_path / "reports"), "--no-deploy-fabric", *target],
                     ["fault", "inject", "enforcement_disabled", *by_hand],
                     ["restore", *by_hand]):
            done = pfdrill(env, *args, timeout=300)
            assert done.returncode == 4, f"{why}: {args}: {done.returncode} {done.stderr}"
            refused += 1
    assert versions(cluster) == before
    assert cluster.client.lease_holder(NS, lease.LEASE_NAME) is None
    print(f"wrong targets refused: {refused}")
