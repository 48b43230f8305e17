"""The guard every non-drill entry point runs its changes in: allow-list, opt-in, lease,
snapshot, and always restore + release (also on exception and interrupt)."""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Sequence
from pathlib import Path

import pytest

from pfdrill.cluster import lease
from pfdrill.cluster.fake import FakeCluster
from pfdrill.drill import claim
from pfdrill.drill.interrupts import DrillInterrupted
from pfdrill.drill.snapshot import ClusterSnapshotter, SnapshotPlan, SnapshotStore
from pfdrill.errors import LeaseHeld, SafetyRefused
from pfdrill.settings.config import Config

CONFIG = Config(allowed_contexts=("fake",))


class RulesKeeper:
    """A keeper over a plain dict (the live alert rules stand-in)."""

    name = "rules"

    def __init__(self) -> None:
        self.rules: dict[str, str] = {"base.yml": "groups: []"}

    def save(self) -> str:
        return json.dumps(self.rules)

    def restore(self, saved: str) -> Sequence[str]:
        want = json.loads(saved)
        if want == self.rules:
            return []
        self.rules = want
        return ["rules restored"]


@pytest.fixture
def cluster() -> FakeCluster:
    c = FakeCluster("fake")
    c.add_namespace("production", {"pfdrill.dev/drills": "enabled"})
    c.add_configmap("production", "policy-config", {"enforcement_mode": "enforce",
                                                    "log_level": "DEBUG"})
    c.add_deployment("production", "sidecar-watcher", 2)
    c.calls.clear()
    return c


def _claim(cluster: FakeCluster, tmp_path: Path, **kw: object) -> claim.Claim:
    return claim.Claim(cluster, CONFIG, SnapshotStore(tmp_path / "snaps"), run_id="check-1",
                       **kw)  # type: ignore[arg-type]


def test_changes_in_the_block_are_put_back_and_the_lease_released(
        cluster: FakeCluster, tmp_path: Path) -> None:
    keeper = RulesKeeper()
    with _claim(cluster, tmp_path, keepers=[keeper]) as held:
        assert cluster.lease_holder("production", lease.LEASE_NAME) == held.holder
        cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "disabled"})
        cluster.scale_deployment("production", "sidecar-watcher", 0)
        keeper.rules["drill.yml"] = "groups: [added]"
        assert (tmp_path / "snaps").rglob("*.json")
    assert cluster.get_configmap("production", "policy-config") == {
        "enforcement_mode": "enforce", "log_level": "DEBUG"}
    assert cluster.get_deployment("production", "sidecar-watcher").replicas == 2
    assert keeper.rules == {"base.yml": "groups: []"}
    assert held.restored and cluster.leases == {}
    assert not list((tmp_path / "snaps").rglob("*.json"))  # nothing left to restore


def test_restored_on_exception_and_on_sigterm(cluster: FakeCluster, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), _claim(cluster, tmp_path):
        cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "shadow"})
        raise RuntimeError("a runbook step blew up")
    assert cluster.get_configmap("production", "policy-config")["enforcement_mode"] == "enforce"
    assert cluster.leases == {}
    with pytest.raises(DrillInterrupted), _claim(cluster, tmp_path):
        cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "shadow"})
        os.kill(os.getpid(), signal.SIGTERM)
    assert cluster.get_configmap("production", "policy-config")["enforcement_mode"] == "enforce"
    assert cluster.leases == {}


def test_a_held_lease_refuses_before_any_change_naming_the_holder(
        cluster: FakeCluster, tmp_path: Path) -> None:
    assert cluster.acquire_lease("production", lease.LEASE_NAME, "pfdrill/h/1/weekly", 600)
    cluster.calls.clear()
    with pytest.raises(LeaseHeld) as exc, _claim(cluster, tmp_path):
        pytest.fail("the block must not run")
    assert exc.value.exit_code == 3 and exc.value.holder == "pfdrill/h/1/weekly"
    assert "pfdrill/h/1/weekly" in str(exc.value)
    assert cluster.calls == [] and not (tmp_path / "snaps").exists()
    assert cluster.lease_holder("production", lease.LEASE_NAME) == "pfdrill/h/1/weekly"


def test_wait_takes_the_lease_once_its_holder_lets_go(cluster: FakeCluster) -> None:
    assert cluster.acquire_lease("production", lease.LEASE_NAME, "other", 600)
    now = [0.0]
    told: list[str] = []

    def sleep(s: float) -> None:
        now[0] += s
        if now[0] >= 4:
            cluster.release_lease("production", lease.LEASE_NAME, "other")

    lease.take(cluster, "production", "me", 60, wait_s=30, progress=told.append,
               clock=lambda: now[0], sleep=sleep)
    assert cluster.lease_holder("production", lease.LEASE_NAME) == "me"
    assert told == [f"waiting for the lease production/{lease.LEASE_NAME} held by other"]


def test_refused_targets_change_nothing(cluster: FakeCluster, tmp_path: Path) -> None:
    cluster.add_namespace("production", {})
    cluster.calls.clear()
    with pytest.raises(SafetyRefused, match="not opted in"), _claim(cluster, tmp_path):
        pytest.fail("the block must not run")
    assert cluster.calls == [] and cluster.leases == {}


def test_a_killed_runs_snapshot_is_restored_first(cluster: FakeCluster, tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snaps")
    dead = f"pfdrill/{socket.gethostname()}/999999999/killed"
    stale = ClusterSnapshotter(cluster, SnapshotPlan("production")).take(
        run_id="killed", holder=dead, taken_wall="then")
    store.save(stale)
    assert cluster.acquire_lease("production", lease.LEASE_NAME, dead, 600)
    cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "disabled"})
    told: list[str] = []
    with _claim(cluster, tmp_path, progress=told.append):
        assert cluster.get_configmap("production", "policy-config")["enforcement_mode"] == "enforce"
    assert told[0] == "released the lease of killed run killed"
    assert "ConfigMap policy-config restored" in told[1]


def test_a_hand_injected_fault_holds_the_lease_under_its_key(cluster: FakeCluster) -> None:
    holder = claim.hold_for_fault(cluster, CONFIG, "cli-adapter_failure")
    assert holder.endswith("/fault/cli-adapter_failure")
    with pytest.raises(LeaseHeld, match="fault/cli-adapter_failure") as held:
        lease.ensure_free(cluster, "production")
    # the refusal names the command that lets it go (an injection killed before its record
    # leaves only this lease)
    assert "roll it back with `pfdrill fault rollback --key cli-adapter_failure`" in str(held.value)
    assert lease.fault_key(holder) == "cli-adapter_failure"
    assert lease.fault_key(f"pfdrill/{socket.gethostname()}/4242/run") is None
    lease.release(cluster, "production", lease.fault_holder("cli-adapter_failure"))
    lease.ensure_free(cluster, "production")


def test_restore_by_hand_puts_back_what_a_killed_run_left_and_lets_go(
        cluster: FakeCluster, tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snaps")
    dead = f"pfdrill/{socket.gethostname()}/999999999/killed"
    store.save(ClusterSnapshotter(cluster, SnapshotPlan("production")).take(
        run_id="killed", holder=dead, taken_wall="then"))
    assert cluster.acquire_lease("production", lease.LEASE_NAME, dead, 600)
    cluster.scale_deployment("production", "sidecar-watcher", 0)
    keeper = RulesKeeper()
    done = claim.restore_killed(cluster, CONFIG, store, [keeper], run_id="by-hand")
    assert done[0] == "released the lease of killed run killed"
    assert "restored the snapshot left by killed run killed" in done[1]
    assert cluster.get_deployment("production", "sidecar-watcher").replicas == 2
    assert cluster.leases == {} and store.load("fake", "production") is None
    cluster.calls.clear()
    assert claim.restore_killed(cluster, CONFIG, store, [keeper], run_id="again") == ()
    assert cluster.leases == {}


def test_restore_by_hand_refuses_a_live_holder(cluster: FakeCluster, tmp_path: Path) -> None:
    live = str(lease.RunHolder(socket.gethostname(), os.getppid(), "running"))
    assert cluster.acquire_lease("production", lease.LEASE_NAME, live, 600)
    with pytest.raises(LeaseHeld, match="running"):
        claim.restore_killed(cluster, CONFIG, SnapshotStore(tmp_path / "snaps"), [],
                             run_id="by-hand")
    assert cluster.lease_holder("production", lease.LEASE_NAME) == live


def test_a_killed_runs_lease_alone_is_released_and_does_not_refuse(cluster: FakeCluster) -> None:
    dead = f"pfdrill/{socket.gethostname()}/999999999/early"
    assert cluster.acquire_lease("production", lease.LEASE_NAME, dead, 600)
    lease.ensure_free(cluster, "production")  # a dead holder does not count
    other_host = "pfdrill/elsewhere/1/remote"
    assert lease.killed(other_host) is None  # another host's run may well be alive
    told: list[str] = []
    holder = claim.hold_for_fault(cluster, CONFIG, "cli-adapter_failure", progress=told.append)
    assert told == ["released the lease of killed run early"]
    assert cluster.lease_holder("production", lease.LEASE_NAME) == holder
