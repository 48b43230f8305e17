"""pfctl against the kwok drill cluster running the reference fabric, Prometheus and the sink."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from runbook_support import Drill, drill_environment  # type: ignore[import-not-found]

from pfdrill.fabric import certs
from pfdrill.fabric.authority import Authority
from pfdrill.obs.api import PrometheusAPI
from pfdrill.pfctl import canary, cli
from pfdrill.pfctl.context import from_config
from pfdrill.runbook import sandbox
from pfdrill.runbook.observer import Verdict

pytestmark = [pytest.mark.cluster]


@pytest.fixture(scope="module")
def drill(drill_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    yield from drill_environment(drill_cluster, tmp_path_factory.mktemp("pfctl-drill"))


@pytest.fixture
def pfctl(drill: Drill, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Drill:
    drill.reset()
    config = tmp_path / "pfctl.yaml"
    config.write_text(yaml.safe_dump(sandbox.pfctl_config(drill.env, tmp_path / "state", tmp_path)))
    monkeypatch.setenv("PFCTL_CONFIG", str(config))
    monkeypatch.setenv("PFDRILL_STATE_DIR", str(drill.paths.state))
    monkeypatch.delenv("PFDRILL_AUDIT", raising=False)
    monkeypatch.chdir(tmp_path)
    return drill


def kubectl(drill: Drill, *args: str) -> str:
    return subprocess.run([drill.env.kubectl, "-n", "production", *args], env=drill.cluster.env,
                          capture_output=True, text=True, check=True, timeout=60).stdout


def test_status_health_certs_and_the_live_dfa(pfctl: Drill, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--env", "production", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["enforcement_mode"], shown["sidecar-watcher"]) == ("enforce", "2/2 ready")
    assert cli.main(["health", "check", "--env", "production", "--full"]) == 0
    out = capsys.readouterr().out
    assert "ok    sidecar-watcher /readyz: /readyz HTTP 200" in out
    assert cli.main(["certs", "verify", "--env", "production"]) == 0
    assert "certificates from CA" in capsys.readouterr().out
    artifact = tmp_path / "dfa.json"
    artifact.write_text(kubectl(pfctl, "get", "configmap", "dfa-artifact", "-o",
                                "jsonpath={.data.dfa\\.json}"))
    (tmp_path / "dfa.json.sha256").write_text(kubectl(
        pfctl, "get", "configmap", "dfa-artifact", "-o", "jsonpath={.data.dfa\\.json\\.sha256}"))
    assert cli.main(["validate", "--dfa", str(artifact)]) == 0
    artifact.write_text(artifact.read_text().replace('"export": "reviewed"', '"export": "active"'))
    assert cli.main(["validate", "--dfa", str(artifact)]) == 1  # a verdict: the artifact is invalid
    assert "sha256 mismatch" in capsys.readouterr().err


def test_the_recovery_suite_follows_the_mode_in_force(pfctl: Drill,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["test", "--env", "production", "--suite", "incident-recovery"]) == 0
    assert "PASS  canary_decisions: 5 canaries answered as enforce requires" in \
        capsys.readouterr().out
    since = dt.datetime.now(dt.UTC)
    kubectl(pfctl, "patch", "configmap", "policy-config", "--patch",
            '{"data":{"enforcement_mode":"monitor"}}')
    seen = from_config(None).observer("app=sidecar-watcher").config_verdict(
        since, {"enforcement_mode": "monitor"}, 20)
    assert seen.verdict is Verdict.ACCEPTED, seen.detail
    assert cli.main(["test", "add", "--suite", "incident-recovery", "--test",
                     "policy_enforcement_failure_recovery"]) == 0
    assert cli.main(["test", "--env", "production", "--suite", "incident-recovery"]) == 1
    err = capsys.readouterr().err
    assert "policy_enforcement_failure_recovery: enforcement_mode is monitor, not enforce" in err
    assert "canary_decisions" not in err  # the canaries were answered the way monitor requires


def test_violations_collected_and_analysed_from_real_decisions(
        pfctl: Drill, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = from_config(None)
    ca = Authority.for_context(pfctl.env.context, pfctl.paths)
    results = canary.run(ctx.watcher_url(), canary.canaries(ca), canary.EnforcementMode.ENFORCE)
    assert all(r.ok for r in results)
    logs = kubectl(pfctl, "logs", "-l", "app=sidecar-watcher", "--tail=-1", "--prefix")
    (tmp_path / "v.log").write_text("\n".join(ln for ln in logs.splitlines() if "REJECT" in ln))
    assert cli.main(["analyze", "--violations", "v.log", "--output", "a.json"]) == 0
    summary = json.loads((tmp_path / "a.json").read_text())
    assert summary["by_type"]["REJECT"] >= 3
    assert summary["by_principal"].get("svc-intern", 0) >= 1
    assert "permit:interns-no-export" in summary["by_rule"]
    assert cli.main(["collect", "--env", "production", "--output", "incident.tar.gz"]) == 0
    with tarfile.open(tmp_path / "incident.tar.gz") as tar:
        names = tar.getnames()
        watcher_logs = [n for n in names if n.startswith("logs/sidecar-watcher-")]
        assert len(watcher_logs) == 2
        text = b"".join(tar.extractfile(n).read() for n in watcher_logs)  # type: ignore[union-attr]
    assert b"event=decision" in text
    assert "metrics.json" in names and "configmaps/policy-config.yaml" in names


def test_config_deploy_waits_for_the_watcher_and_refuses_bad_values(
        pfctl: Drill, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("enforcement_mode: off\n")
    assert cli.main(["config", "deploy", "--env", "production", "--file", str(bad)]) == 2
    assert "would refuse this policy-config" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    good.write_text("log_level: DEBUG\n")
    assert cli.main(["config", "deploy", "--env", "production", "--file", str(good)]) == 0
    assert "watcher pod(s) reloaded policy-config" in capsys.readouterr().out
    assert pfctl.cluster.client.get_configmap("production", "policy-config")["log_level"] == "DEBUG"


def test_monitoring_edits_reach_prometheus(pfctl: Drill, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["monitoring", "add-alert", "--rule", "policy_enforcement_failure",
                     "--threshold", "0", "--duration", "1m", "--severity", "SEV-1"]) == 0
    assert cli.main(["monitoring", "update-threshold", "--metric", "cert_verification_rate",
                     "--new-threshold", "99.5"]) == 0
    assert cli.main(["monitoring", "add-predictive", "--metric", "reject_rate",
                     "--prediction-window", "10m"]) == 0
    prom = PrometheusAPI(pfctl.env.prometheus_url)
    try:
        names = prom.rule_names()
        data = prom._data("/api/v1/rules")
    finally:
        prom.close()
    assert {"PolicyEnforcementFailure", "PredictedRejectRate"} <= set(names)
    exprs = {r["name"]: r["query"] for g in data["groups"] for r in g["rules"]}
    assert exprs["CertificateVerificationFailures"] == "pfdrill:cert_failure_ratio > 0.005"


def test_rotation_trusts_old_and_new_and_fails_no_decision(
        pfctl: Drill, capsys: pytest.CaptureFixture[str]) -> None:
    before = certs.TrustBundle.parse(pfctl.cluster.client.get_secret(
        "production", "fabric-certs")[certs.BUNDLE_KEY])
    assert cli.main(["rotate", "--credentials", "--env", "production"]) == 0, \
        capsys.readouterr().err
    out = capsys.readouterr().out
    assert ", 0 failed" in out
    after = certs.TrustBundle.parse(pfctl.cluster.client.get_secret(
        "production", "fabric-certs")[certs.BUNDLE_KEY])
    assert set(before.key_ids) < set(after.key_ids) and len(after.key_ids) == 2
