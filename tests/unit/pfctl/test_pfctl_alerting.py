"""Editing the live alert rules as text, so the rule file's comments survive."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import InvalidInput, ServiceUnavailable
from pfdrill.obs import profile, promtool, rules
from pfdrill.pfctl import alerting
from pfdrill.pfctl.context import Context

SOURCE = Path(__file__).resolve().parents[3] / "deploy" / "alerts" / "source" / "rules.yml"


@pytest.fixture
def live(tmp_path: Path) -> Path:
    path = tmp_path / "pfdrill-alerts.yml"
    path.write_text(rules.render(SOURCE, profile.get("drill")))
    return path


def alert(path: Path, name: str) -> dict[str, object]:
    doc = yaml.safe_load(path.read_text())
    found = [r for g in doc["groups"] for r in g["rules"] if r.get("alert") == name]
    assert len(found) == 1, name
    return found[0]


def test_signals_come_from_the_recording_rules_and_aliases(live: Path) -> None:
    doc = yaml.safe_load(live.read_text())
    assert {"reject_rate", "cert_failure_ratio", "enforcement_disabled"} <= alerting.signals(doc)
    cert = alerting.resolve("cert_verification_rate", doc)
    assert (cert.signal, cert.convert(99.5)) == ("cert_failure_ratio", 0.005)
    with pytest.raises(InvalidInput, match="unknown signal 'latency'"):
        alerting.resolve("latency", doc)


def test_a_rule_is_added_to_pfctls_group_and_replaced_not_duplicated(live: Path) -> None:
    rule = {"alert": "PolicyEnforcementFailure", "expr": "x > 0", "for": "1m",
            "labels": {"severity": "SEV-1"}}
    original = live.read_text()
    once = alerting._upsert(live.read_text(), live, rule)
    live.write_text(once)
    assert once.startswith(original)  # comments and every existing rule stay as they were
    twice = alerting._upsert(live.read_text(), live, {**rule, "expr": "x > 1"})
    live.write_text(twice)
    doc = yaml.safe_load(twice)
    assert doc["groups"][-1]["name"] == alerting.GROUP
    assert alert(live, "PolicyEnforcementFailure")["expr"] == "x > 1"


def test_a_threshold_is_replaced_in_its_own_alert_only(live: Path) -> None:
    text = live.read_text()
    new, n = alerting._replace_expr(text, "CertificateVerificationFailures",
                                    "pfdrill:cert_failure_ratio > 0.01",
                                    "pfdrill:cert_failure_ratio > 0.005")
    assert n == 1
    live.write_text(new)
    assert alert(live, "CertificateVerificationFailures")["expr"] == \
        "pfdrill:cert_failure_ratio > 0.005"
    assert alert(live, "PolicyAdapterErrors")["expr"] == "pfdrill:adapter_error_ratio > 0.01"
    assert len(new.splitlines()) == len(text.splitlines())


def test_without_a_rules_file_or_prometheus_nothing_is_touched(
        make_ctx: Callable[..., Context], live: Path) -> None:
    with pytest.raises(ServiceUnavailable, match="no alert rules configured"):
        alerting.add_alert(make_ctx(), "reject_rate", "5", "1m", "SEV-2")
    before = live.read_text()
    with pytest.raises(ServiceUnavailable, match="no Prometheus configured"):
        alerting.update_threshold(make_ctx(rules_file=str(live)), "cert_verification_rate", "99.5")
    assert live.read_text() == before


@pytest.mark.servers
def test_edited_rules_still_pass_promtool(live: Path) -> None:
    live.write_text(alerting._upsert(live.read_text(), live, {
        "alert": "PredictedRejectRate",
        "expr": "predict_linear(pfdrill:reject_rate[30m], 600) > 10 * "
                "clamp_min(pfdrill:baseline:reject_rate, 0.1)",
        "for": "1m", "labels": {"severity": "SEV-2", "signal": "reject_rate"}}))
    before = promtool.check_rules(live)
    assert before == len([r for g in yaml.safe_load(live.read_text())["groups"]
                          for r in g["rules"]])


def test_edits_change_only_what_they_change(live: Path) -> None:
    text = live.read_text()
    new, n = alerting._replace_expr(text, "CertificateVerificationFailures",
                                    "pfdrill:cert_failure_ratio > 0.01",
                                    "pfdrill:cert_failure_ratio > 0.005")
    assert n == 1
    changed = [(a, b) for a, b in zip(text.splitlines(), new.splitlines(), strict=True) if a != b]
    assert changed == [("        expr: pfdrill:cert_failure_ratio > 0.01",
                        "        expr: pfdrill:cert_failure_ratio > 0.005")]


def test_a_folded_expression_keeps_its_lines_and_the_comments_around_it(tmp_path: Path) -> None:
    text = ("groups:\n  - name: team\n    rules:\n      # the ratio, folded as a person wrote it\n"
            "      - alert: ErrorRatio\n        expr: >-\n          sum(rate(errors_total[5m]))\n"
            "          / sum(rate(requests_total[5m])) > 0.01\n        for: 1m  # held a minute\n")
    old = "sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])) > 0.01"
    new, n = alerting._replace_expr(text, "ErrorRatio", old, old.replace("0.01", "0.025"))
    assert n == 1 and new == text.replace("> 0.01", "> 0.025")
    assert yaml.safe_load(new)["groups"][0]["rules"][0]["expr"] == old.replace("0.01", "0.025")


def test_in_cluster_rules_are_read_and_written_in_their_configmap(
        make_ctx: Callable[..., Context], cluster: FakeCluster, live: Path) -> None:
    cluster.add_configmap("production", "pfdrill-alert-rules", {"pfdrill-alerts.yml": live.read_text()})
    source = alerting.rules_file(make_ctx(rules_configmap="pfdrill-alert-rules"))
    assert source.in_cluster and str(source.label) == \
        "configmap/production/pfdrill-alert-rules/pfdrill-alerts.yml"
    assert source.read() == live.read_text()
    source.write("groups: []\n")
    assert cluster.get_configmap("production", "pfdrill-alert-rules") == {
        "pfdrill-alerts.yml": "groups: []\n"}
    missing = alerting.rules_file(make_ctx(rules_configmap="pfdrill-alert-rules/other.yml"))
    with pytest.raises(InvalidInput, match=r"has no key 'other\.yml'"):
        missing.read()


def test_a_reload_counts_only_once_prometheus_runs_the_edit() -> None:
    """The checks the reload loop waits on, against alert_exprs() as Prometheus prints them."""
    loaded = {"CertificateVerificationFailures": "pfdrill:cert_failure_ratio > 0.005",
              "RejectRateHigh": "pfdrill:reject_rate_ratio > 5"}
    assert alerting._lists("RejectRateHigh")(loaded)
    assert not alerting._lists("PredictedRejectRate")(loaded)
    assert alerting._compares({"CertificateVerificationFailures": 0.005})(loaded)
    assert alerting._compares({"CertificateVerificationFailures": 5e-3, "RejectRateHigh": 5.0})(loaded)
    assert not alerting._compares({"CertificateVerificationFailures": 0.01})(loaded)
    assert not alerting._compares({"Missing": 1.0})(loaded)
