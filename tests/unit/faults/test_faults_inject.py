"""Inject, prove, roll back on a fake cluster with a simulated fabric.

Covers the faults whose effect is a change of cluster objects; the traffic
faults run on the real cluster (integration tests), here only their planning.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from pfdrill.errors import InvalidInput, SafetyRefused
from pfdrill.fabric import certs
from pfdrill.fabric import dfa as dfa_mod
from pfdrill.faults.base import Recorder
from pfdrill.faults.fake import NS
from pfdrill.faults.fake import FabricWorld as World
from pfdrill.faults.fake import fabric_world as make_world
from pfdrill.faults.fault import Catalog, InjectableFault
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.state import Phase
from pfdrill.settings.config import Config

CLUSTER_FAULTS: list[tuple[str, dict[str, Any], str]] = [
    ("adapter_failure", {"variant": "scaled_to_zero", "failure_mode": "fail_open"}, "fail-open requests"),
    ("adapter_failure", {"variant": "errors", "error_rate": 0.5}, "error_rate=0.5"),
    ("adapter_failure", {"variant": "slow"}, "added_latency_ms=1000"),
    ("certificate_corruption", {"mode": "flip"}, "trust_bundle_ok=0 on 2/2 watchers"),
    ("certificate_corruption", {"mode": "truncate"}, "no longer verifies"),
    ("certificate_corruption", {"mode": "wrong_key"}, "certificates failed verification (100.0%)"),
    ("dfa_tampering", {"mode": "sha_mismatch"}, "refused (sha256"),
    ("dfa_tampering", {"mode": "schema_invalid"}, "refused (schema"),
    ("enforcement_disabled", {}, 'enforcement_mode{mode="disabled"}=1 on 2/2 watchers'),
    ("enforcement_disabled", {"mode": "shadow"}, 'mode="shadow"'),
    ("break_glass_left_on", {}, 'mode="break_glass"'),
    ("sidecar_pod_loss", {"count": 2}, "wants 0 replicas, 0 pods running"),
    ("sidecar_pod_loss", {"variant": "deleted"}, "still running: none"),
    ("performance_degradation", {"percent": 60}, "+60%"),
    ("performance_degradation", {"percent": 30, "kind": "cpu"}, "+30%"),
]


@pytest.mark.parametrize(("fault", "params", "seen"), CLUSTER_FAULTS)
def test_inject_is_proven_and_rollback_restores_the_snapshot(
        world: World, fault: str, params: dict[str, Any], seen: str) -> None:
    before = world.snapshot()
    f = Catalog(world.ctx, key_prefix="unit").create(fault)
    assert not f.prove().proven  # nothing injected yet
    f.inject(params)
    assert world.snapshot() != before or fault == "sidecar_pod_loss"
    obs = f.prove()
    assert obs.proven, obs.detail
    assert seen in obs.detail
    f.rollback()
    assert world.snapshot() == before
    assert not f.prove().proven
    journal = f.journal()
    assert journal is not None and journal.status == "completed"
    assert [a.name for a in journal.rollbacks] == [f"rollback {fault}"]


def test_rollback_is_idempotent_and_safe_before_inject(world: World) -> None:
    f = InjectableFault(FaultKind.ENFORCEMENT_DISABLED, world.ctx, key="k")
    assert f.rollback_actions() == []
    assert world.cluster.mutations == []
    f.inject({})
    assert f.rollback_actions() == ["ConfigMap policy-config: enforcement_mode restored"]
    calls = len(world.cluster.mutations)
    assert f.rollback_actions() == []
    assert len(world.cluster.mutations) == calls


def test_rollback_from_a_later_process_uses_the_state_file(world: World) -> None:
    before = world.snapshot()
    InjectableFault(FaultKind.ADAPTER_FAILURE, world.ctx, key="game-day").inject(
        {"variant": "scaled_to_zero", "failure_mode": "fail_open"})
    later = InjectableFault(FaultKind.ADAPTER_FAILURE, world.later_context(), key="game-day")
    assert later.prove().proven
    assert sorted(later.rollback_actions()) == [
        "ConfigMap policy-config: adapter_failure_mode restored",
        "Deployment policy-adapter scaled back to 1"]
    assert world.snapshot() == before


def test_rollback_restores_only_what_the_fault_changed(world: World) -> None:
    f = InjectableFault(FaultKind.BREAK_GLASS_LEFT_ON, world.ctx)
    f.inject({})
    # Someone (the runbook) changes another key meanwhile: it must survive the rollback.
    world.cluster.patch_configmap(NS, "policy-config", {"performance_mode": "enabled"})
    f.rollback()
    cfg = world.cluster.get_configmap(NS, "policy-config")
    assert cfg["enforcement_mode"] == "enforce" and cfg["performance_mode"] == "enabled"


def test_state_is_written_before_the_change(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed right after its first change, an injection still leaves a state that undoes it."""
    f = InjectableFault(FaultKind.ADAPTER_FAILURE, world.ctx, key="killed")
    seen: list[list[str]] = []
    real = world.cluster.patch_configmap

    def spy(ns: str, name: str, data: Any) -> None:
        state = f.state()
        assert state is not None
        seen.append([c.target for c in state.changes])
        real(ns, name, data)

    monkeypatch.setattr(world.cluster, "patch_configmap", spy)
    f.inject({"variant": "scaled_to_zero", "failure_mode": "fail_open"})
    assert seen == [["policy-config"]]  # journalled before the ConfigMap was patched


def test_injection_failing_midway_is_rolled_back(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    before = world.snapshot()

    def boom(self: Recorder, deployment: str, replicas: int) -> None:
        raise RuntimeError("the API server went away")

    monkeypatch.setattr(Recorder, "scale", boom)
    f = InjectableFault(FaultKind.ADAPTER_FAILURE, world.ctx, key="midway")
    with pytest.raises(RuntimeError, match="went away"):
        f.inject({"variant": "scaled_to_zero", "failure_mode": "fail_open"})
    assert world.snapshot() == before  # the failure-mode change made first is undone
    state = f.state()
    assert state is not None and state.phase is Phase.ROLLED_BACK
    assert "injection failed" in state.rollback_actions[0] or state.rollback_actions


def test_killed_injection_is_rolled_back_by_the_next_process(world: World) -> None:
    """A state left in phase 'injecting' (process killed) is rolled back like any other."""
    before = world.snapshot()
    f = InjectableFault(FaultKind.ADAPTER_FAILURE, world.ctx, key="sigkill")
    state = f._fresh_state(f.driver.validate({"variant": "scaled_to_zero", "failure_mode": "fail_open"}))
    rec = Recorder(world.ctx, state, store=world.ctx.store)
    world.ctx.store.save(state)
    rec.set_configmap("policy-config", {"adapter_failure_mode": "fail_open"})  # then "SIGKILL"
    left = world.ctx.store.load(world.ctx.context, NS, "sigkill")
    assert left is not None and left.phase is Phase.INJECTING
    assert InjectableFault(FaultKind.ADAPTER_FAILURE, world.later_context(), key="sigkill").rollback_actions()
    assert world.snapshot() == before


def test_state_file_is_private(world: World) -> None:
    f = InjectableFault(FaultKind.CERTIFICATE_CORRUPTION, world.ctx, key="certs")
    f.inject({"mode": "flip"})
    path = world.ctx.store.path(world.ctx.context, NS, "certs")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["phase"] == "injected" and data["changes"][0]["kind"] == "secret"
    f.rollback()


def test_one_active_fault_per_namespace(world: World) -> None:
    InjectableFault(FaultKind.ENFORCEMENT_DISABLED, world.ctx, key="first").inject({})
    calls = len(world.cluster.mutations)
    with pytest.raises(SafetyRefused, match=r"fault enforcement_disabled \(key first\) is still injected"):
        InjectableFault(FaultKind.BREAK_GLASS_LEFT_ON, world.ctx, key="second").inject({})
    assert len(world.cluster.mutations) == calls


@pytest.mark.parametrize("fault", [k.value for k in FaultKind])
def test_namespace_without_opt_in_is_refused_before_any_change(tmp_path: Path, fault: str) -> None:
    w = make_world(tmp_path, opted_in=False)
    with pytest.raises(SafetyRefused, match="not opted in"):
        Catalog(w.ctx).create(fault).inject({})
    with pytest.raises(SafetyRefused):
        Catalog(w.ctx).create(fault).plan({})
    assert w.cluster.mutations == []
    assert w.ctx.store.all(w.ctx.context, NS) == []


def test_context_off_the_allow_list_is_refused(tmp_path: Path) -> None:
    w = make_world(tmp_path, config=Config(allowed_contexts=("staging-*",)))
    with pytest.raises(SafetyRefused, match="is not on the allow-list"):
        Catalog(w.ctx).create("adapter_failure").inject({})
    assert w.cluster.mutations == []


def test_bad_parameters_change_nothing(world: World) -> None:
    for fault, params in [("certificate_corruption", {"mode": "expired", "fraction": 1.5}),
                          ("high_reject_rate", {"multiplier": -2}),
                          ("adapter_failure", {"variant": "melted"})]:
        with pytest.raises(InvalidInput):
            Catalog(world.ctx).create(fault).inject(params)
    assert world.cluster.mutations == []
    assert world.ctx.store.all(world.ctx.context, NS) == []


def test_bad_parameter_found_at_inject_rolls_back(world: World) -> None:
    before = world.snapshot()
    with pytest.raises(InvalidInput, match="not beyond the watcher's adapter_timeout_ms=250"):
        Catalog(world.ctx).create("adapter_failure").inject(
            {"variant": "slow", "added_latency_ms": 100, "failure_mode": "fail_open"})
    assert world.snapshot() == before
    with pytest.raises(InvalidInput, match="count=5 is more than the 2 replicas"):
        Catalog(world.ctx).create("sidecar_pod_loss").inject({"count": 5})
    assert world.snapshot() == before


def test_dry_run_plans_without_changing(world: World) -> None:
    planned = Catalog(world.ctx).create("adapter_failure").plan(
        {"variant": "scaled_to_zero", "failure_mode": "fail_open"})
    assert [c.describe() for c in planned] == [
        "ConfigMap policy-config: adapter_failure_mode: 'fail_closed' -> 'fail_open'",
        "Deployment policy-adapter: replicas 1 -> 0"]
    secret = Catalog(world.ctx).create("certificate_corruption").plan({"mode": "truncate"})
    assert secret[0].describe().startswith("Secret fabric-certs: trust-bundle.json: <")
    assert "public_key" not in secret[0].describe()
    assert world.cluster.mutations == []
    assert world.ctx.store.all(world.ctx.context, NS) == []


def test_flipped_bundle_never_verifies_and_wrong_key_is_well_formed(world: World) -> None:
    raw = world.cluster.get_secret(NS, "fabric-certs")[certs.BUNDLE_KEY]
    InjectableFault(FaultKind.CERTIFICATE_CORRUPTION, world.ctx, key="a").inject({"mode": "flip"})
    flipped = world.cluster.get_secret(NS, "fabric-certs")[certs.BUNDLE_KEY]
    assert flipped != raw and len(flipped) == len(raw)
    with pytest.raises(InvalidInput, match="key_id does not match"):
        certs.TrustBundle.parse(flipped)


def test_dfa_tampering_fails_for_the_intended_reason(world: World) -> None:
    f = InjectableFault(FaultKind.DFA_TAMPERING, world.ctx, key="dfa")
    f.inject({"mode": "sha_mismatch"})
    data = world.cluster.get_configmap(NS, "dfa-artifact")
    with pytest.raises(dfa_mod.DfaRefused) as err:
        dfa_mod.load_artifact({k: v.encode() for k, v in data.items()})
    assert err.value.reason == "sha256"
    tampered = json.loads(data[dfa_mod.DFA_KEY])
    assert tampered["transitions"]["anonymous"]["export"] == "anonymous"  # it would allow more


def test_traffic_fault_needs_the_watcher_url(world: World) -> None:
    with pytest.raises(Exception, match="needs the sidecar-watcher Service URL"):
        Catalog(world.ctx).create("ni_reject_burst").plan({})


def test_root_cause_terms(world: World) -> None:
    assert "adapter" in Catalog(world.ctx).create("adapter_failure").root_cause_terms()
    assert "trust bundle" in Catalog(world.ctx).create("certificate_corruption").root_cause_terms()
    assert sorted(Catalog(world.ctx).names()) == sorted(k.value for k in FaultKind)


def test_rollback_keeps_going_past_a_failing_change_and_says_so(world: World,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from pfdrill.errors import ClusterError, TransientFaultError

    f = InjectableFault(FaultKind.ADAPTER_FAILURE, world.ctx, key="flaky")
    f.inject({"variant": "scaled_to_zero", "failure_mode": "fail_open"})

    def down(*args: Any) -> None:
        raise ClusterError("scale deployment: cannot reach the API server")

    with monkeypatch.context() as m:
        m.setattr(world.cluster, "scale_deployment", down)
        with pytest.raises(TransientFaultError, match=r"rollback incomplete .*Deployment policy-adapter"):
            f.rollback()
    # The ConfigMap was still restored, and the fault is still recorded as injected: retry works.
    assert world.cluster.get_configmap(NS, "policy-config")["adapter_failure_mode"] == "fail_closed"
    assert f.state() is not None and f.state().active  # type: ignore[union-attr]
    assert f.rollback_actions() == ["Deployment policy-adapter scaled back to 1"]
