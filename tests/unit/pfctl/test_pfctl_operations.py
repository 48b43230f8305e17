"""health, policy operations, security findings, suites, status page (chaos update: tests/unit/schedule)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pfctl_support import StubObserver  # type: ignore[import-not-found]

from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import InvalidInput
from pfdrill.fabric import certs
from pfdrill.fabric.rules import RULES_KEY
from pfdrill.pfctl import health, policyops, status, suites
from pfdrill.pfctl.context import Context


def by_name(checks: list[health.Check]) -> dict[str, health.Check]:
    return {c.name: c for c in checks}


def test_health_of_a_good_fabric(ctx: Context) -> None:
    checks = health.core(ctx)
    assert all(c.ok and not c.warning for c in checks), checks
    assert by_name(checks)["deployment sidecar-watcher"].detail == "2/2 ready"


def test_a_watcher_scaled_to_zero_is_reported_not_failed(ctx: Context, cluster: FakeCluster) -> None:
    cluster.scale_deployment("production", "sidecar-watcher", 0)
    c = by_name(health.core(ctx))["deployment sidecar-watcher"]
    assert c.ok and c.warning and c.detail == "scaled to 0 replicas"


def test_broken_config_and_bundle_fail_health(ctx: Context, cluster: FakeCluster) -> None:
    cluster.patch_configmap("production", "policy-config", {"enforcment_mode": "enforce"})
    cluster.replace_secret("production", "fabric-certs", {certs.BUNDLE_KEY: b"{not json"})
    checks = by_name(health.core(ctx))
    assert not checks["policy-config"].ok and "enforcment_mode" in checks["policy-config"].detail
    assert not checks["trust bundle"].ok


def test_full_health_asks_the_configured_services(make_ctx: Callable[..., Context]) -> None:
    ctx = make_ctx(prometheus_url="http://127.0.0.1:9", watcher_url="http://127.0.0.1:9")
    checks = by_name(health.full(ctx))
    assert not checks["prometheus"].ok and not checks["sidecar-watcher /readyz"].ok
    assert checks["notification sink"].ok and checks["notification sink"].warning


def test_findings_flag_what_weakens_enforcement(ctx: Context, cluster: FakeCluster) -> None:
    assert [f for f in policyops.findings(ctx) if f["severity"] == "high"] == []
    cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "monitor",
                                                            "adapter_failure_mode": "fail_open"})
    cluster.scale_deployment("production", "sidecar-watcher", 0)
    high = {f["message"] for f in policyops.findings(ctx) if f["severity"] == "high"}
    assert high == {"enforcement_mode is monitor", "adapter_failure_mode is fail_open",
                    "scaled to 0: nothing enforces policy"}


def test_review_documents_the_live_policy(ctx: Context) -> None:
    doc = policyops.review(ctx)
    assert doc["policy_config"]["enforcement_mode"] == "enforce"
    assert doc["permit_rules"]["default"] == "deny"
    assert doc["dfa"]["name"] == "session-lifecycle"


def test_a_validation_maps_to_the_fabric_setting_that_implements_it(
        ctx: Context, cluster: FakeCluster, observer: StubObserver) -> None:
    r = policyops.add_validation(ctx, "strict_witness_check", True)
    assert cluster.get_configmap("production", "policy-config")["high_assurance_mode"] == "true"
    assert r["setting"] == "high_assurance_mode=true"
    assert observer.asked == [{"high_assurance_mode": "true"}]
    assert ctx.store.query("SELECT enabled FROM validations")[0]["enabled"] == 1
    with pytest.raises(InvalidInput, match="unknown validation 'x' \\(known: strict_witness_check"):
        policyops.add_validation(ctx, "x", True)


def test_permit_rules_are_validated_before_they_are_applied(
        ctx: Context, cluster: FakeCluster, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("default: maybe\nrules: []\n")
    with pytest.raises(InvalidInput, match="default='maybe'") as err:
        policyops.update_rules(ctx, bad)
    assert err.value.file == str(bad)
    good = tmp_path / "good.yaml"
    good.write_text("default: deny\nrules:\n  - {name: r, principals: ['*'], actions: [read]}\n")
    r = policyops.update_rules(ctx, good)
    assert r["rules"] == 1
    assert cluster.get_configmap("production", "policy-adapter-config")[RULES_KEY] == \
        good.read_text()


@pytest.mark.parametrize("body, message", [
    ("rules:\n  - {name: a, principals: [x], from: public, to: secret}\n", "not a declassification"),
    ("rules:\n  - {name: a, principals: [x], from: top, to: public}\n", "unknown security label"),
    ("rules: []\n", "expected 'rules:'"),
])
def test_declassification_rules_must_declassify(ctx: Context, tmp_path: Path, body: str,
                                                message: str) -> None:
    f = tmp_path / "declass.yaml"
    f.write_text(body)
    with pytest.raises(InvalidInput, match=message):
        policyops.update_declass(ctx, f)


def test_declassification_rules_are_kept_in_their_configmap(ctx: Context, cluster: FakeCluster,
                                                            tmp_path: Path) -> None:
    f = tmp_path / "declass.yaml"
    f.write_text("rules:\n  - {name: a, principals: [svc-reporting], from: internal, to: public}\n")
    r = policyops.update_declass(ctx, f)
    assert "does not apply declassification" in r["note"]
    assert "svc-reporting" in cluster.get_configmap("production", "policy-declass")["rules.yaml"]


def test_suites_and_tests_must_exist(ctx: Context) -> None:
    with pytest.raises(InvalidInput, match="unknown suite 'nightly'"):
        suites.check_names("nightly")
    with pytest.raises(InvalidInput, match="unknown test 'made_up'"):
        suites.check_names("stress", "made_up")
    assert ctx.store.add_test("incident-recovery", "policy_enforcement_failure_recovery")
    assert not ctx.store.add_test("incident-recovery", "policy_enforcement_failure_recovery")


def test_the_recovery_test_fails_until_enforcement_is_back(ctx: Context, cluster: FakeCluster) -> None:
    cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "monitor"})
    r = suites.enforcement_recovered(ctx)
    assert not r.ok and r.detail == "enforcement_mode is monitor, not enforce"
    cluster.scale_deployment("production", "sidecar-watcher", 0)
    assert suites.canary_decisions(ctx).detail == "no ready sidecar-watcher to ask"


def test_status_page_updates_are_stored_on_the_open_incident(ctx: Context) -> None:
    ctx.store.create_incident("INC-1", "SEV-1", "d")
    status.update(ctx, "investigating", "looking", None)
    assert ctx.store.last_status()["status"] == "investigating"  # type: ignore[index]
    assert ctx.store.events("INC-1")[-1].detail == "investigating: looking"
    with pytest.raises(InvalidInput, match="--status 'fine'"):
        status.update(ctx, "fine", "", None)
    shown = status.show(ctx)
    assert shown["enforcement_mode"] == "enforce" and shown["open_incident"] == "INC-1"
    assert shown["sidecar-watcher"] == "2/2 ready"
