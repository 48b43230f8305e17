"""Snapshots restore exactly what changed; outcome checks read the world and wait."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pfdrill.drill import checks, fake
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.snapshot import ClusterSnapshotter, SnapshotPlan, SnapshotStore
from pfdrill.errors import InvalidInput
from pfdrill.model.detection import Channel
from pfdrill.model.drill import CheckKind, CheckSpec, Op


def test_snapshot_restores_configmaps_secrets_and_replicas(world: fake.FakeWorld,
                                                           tmp_path: Path) -> None:
    snapper = ClusterSnapshotter(world.cluster, SnapshotPlan("production"))
    store = SnapshotStore(tmp_path)
    snap = snapper.take(run_id="r", holder="h", taken_wall="w")
    path = store.save(snap)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the trust bundle
    assert store.load("kwok-pfdrill", "production") == snap
    c = world.cluster
    c.patch_configmap("production", "policy-config", {"enforcement_mode": "disabled", "x": "1"})
    c.replace_secret("production", "fabric-certs", {"trust-bundle.json": b"junk"})
    c.scale_deployment("production", "sidecar-watcher", 0)
    diffs = snapper.differences(snap)
    assert "ConfigMap policy-config enforcement_mode: 'disabled', snapshot 'enforce'" in diffs
    assert "Secret fabric-certs differs in key(s) trust-bundle.json" in diffs
    assert not any("junk" in d for d in diffs)  # secret values never named
    actions = snapper.restore(snap)
    assert actions == ["ConfigMap policy-config restored", "Secret fabric-certs restored",
                       "Deployment sidecar-watcher scaled back to 2"]
    assert snapper.differences(snap) == [] and snapper.restore(snap) == []
    store.clear("kwok-pfdrill", "production")
    assert store.load("kwok-pfdrill", "production") is None


def check(kind: CheckKind, target: str = "", key: str = "", op: Op = Op.EQ,
          value: str = "") -> CheckSpec:
    return CheckSpec(kind, target, key, op, value)


@pytest.mark.parametrize(("spec", "ok"), [
    (check(CheckKind.CONFIGMAP, "policy-config", "enforcement_mode", Op.EQ, "enforce"), True),
    (check(CheckKind.CONFIGMAP, "policy-config", "enforcement_mode", Op.EQ, "disabled"), False),
    (check(CheckKind.CONFIGMAP, "policy-config", "nope", Op.NE, "x"), True),
    (check(CheckKind.CONFIGMAP, "missing-cm", "k", Op.EQ, "x"), False),
    (check(CheckKind.REPLICAS, "sidecar-watcher", "ready", Op.GE, "2"), True),
    (check(CheckKind.REPLICAS, "sidecar-watcher", "desired", Op.LT, "2"), False),
    (check(CheckKind.NOTIFICATION, "security", "", Op.GE, "1"), True),
    (check(CheckKind.NOTIFICATION, "security", "disabled", Op.GE, "1"), False),
    (check(CheckKind.NOTIFICATION, "team", "", Op.GE, "1"), False),
    (check(CheckKind.LOG, "app=sidecar-watcher", "", Op.CONTAINS, "BYPASS|REJECT"), True),
    (check(CheckKind.LOG, "app=sidecar-watcher", "", Op.CONTAINS, "FORBIDDEN"), False),
    (check(CheckKind.METRIC, 'enforcement_mode{mode="enforce"}', "", Op.EQ, "1"), True),
    (check(CheckKind.METRIC, "unknown_metric", "", Op.EQ, "1"), False),
    (check(CheckKind.STEADY_STATE), True),
])
def test_each_check_kind_observes_the_world(world: fake.FakeWorld, env: DrillEnvironment,
                                            spec: CheckSpec, ok: bool) -> None:
    world.notify(Channel.SECURITY, "Policy enforcement paused")
    world.log("sidecar-watcher", "WARN x BYPASS attempt")
    checks.validate(spec)
    got = checks.observe(spec, env, since=fake.world.EPOCH)
    assert got.ok is ok, got.observed


@pytest.mark.parametrize(("spec", "message"), [
    (check(CheckKind.CONFIGMAP, "cm"), "needs a key"),
    (check(CheckKind.REPLICAS, "d", "", Op.EQ, "three"), "'three' is not a number"),
    (check(CheckKind.NOTIFICATION, "pager", "", Op.GE, "1"), "unknown channel 'pager'"),
    (check(CheckKind.LOG, "app=x", "", Op.CONTAINS, "("), "not a regular expression"),
    (check(CheckKind.METRIC, "up", "", Op.CONTAINS, "1"), "'contains' does not apply"),
])
def test_bad_checks_are_refused(spec: CheckSpec, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        checks.validate(spec)


def test_wait_polls_until_the_world_changes(world: fake.FakeWorld,
                                            env: DrillEnvironment) -> None:
    spec = check(CheckKind.REPLICAS, "sidecar-watcher", "desired", Op.EQ, "3")
    world.at(world.clock.now().replace(second=7), lambda: world.cluster.scale_deployment(
        "production", "sidecar-watcher", 3))
    start = world.clock.monotonic()
    res = checks.wait([spec], env, since=fake.world.EPOCH, timeout_s=30)
    assert res.ok and res.finished_mono - start == pytest.approx(7.0)
    res = checks.wait([check(CheckKind.REPLICAS, "sidecar-watcher", "", Op.EQ, "9")], env,
                      since=fake.world.EPOCH, timeout_s=5)
    assert not res.ok and res.observations[0][1].observed == "desired 3, ready 3"
