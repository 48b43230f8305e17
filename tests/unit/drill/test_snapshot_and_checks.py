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


def test_a_runbooks_template_changes_and_the_configmaps_it_made_are_undone(
        world: fake.FakeWorld) -> None:
    """What the team's runbook does beyond the fault: `kubectl rollout restart`, a resource
    patch on the watcher's container, `pfctl policy declass` creating policy-declass."""
    snapper = ClusterSnapshotter(world.cluster, SnapshotPlan("production"))
    snap = snapper.take(run_id="r", holder="h", taken_wall="w")
    assert snap.absent_configmaps == ("policy-declass",)
    assert set(snap.templates) == {"sidecar-watcher", "policy-adapter"}
    assert snap == type(snap).from_dict(snap.to_dict())  # it survives the file on disk
    c = world.cluster
    c.rollout_restart("production", "sidecar-watcher")
    c.patch_deployment("production", "sidecar-watcher", {"spec": {"template": {"spec": {
        "containers": [{"name": "sidecar-watcher", "resources": {"limits": {"memory": "1Gi"}}}]}}}})
    c.apply([{"apiVersion": "v1", "kind": "ConfigMap", "data": {"rules.yaml": "rules: []\n"},
              "metadata": {"name": "policy-declass", "namespace": "production"}}])
    diffs = snapper.differences(snap)
    (template,) = [d for d in diffs if d.startswith("Deployment sidecar-watcher pod template")]
    assert "metadata.annotations" in template and ", spec" in template  # (the fake's has none)
    assert "ConfigMap policy-declass was created (absent at the snapshot)" in diffs
    actions = snapper.restore(snap)
    assert actions[0].startswith("Deployment sidecar-watcher pod template put back (")
    assert actions[1:] == ["sidecar-watcher rolled out and ready again",  # waited for
                           "ConfigMap policy-declass removed (absent at the snapshot)"]
    assert snapper.differences(snap) == [] and snapper.restore(snap) == []
    dep = c.get_object("apps/v1", "Deployment", "production", "sidecar-watcher")
    assert dep is not None and dep["spec"]["template"] == snap.templates["sidecar-watcher"]


def test_changed_paths_name_where_json_values_differ() -> None:
    from pfdrill.drill.snapshot import changed_paths

    was = {"a": {"b": 1, "c": [1, {"d": 2}]}, "e": "x"}
    assert changed_paths(was, was) == []
    assert changed_paths(was, {"a": {"b": 2, "c": [1, {"d": 3}]}, "e": "x", "f": 1}) == [
        "a.b", "a.c[1].d", "f"]
    assert changed_paths([1], [1, 2]) == ["(whole)"]


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
