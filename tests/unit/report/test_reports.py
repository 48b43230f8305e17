"""All four report formats, for passing and failing drills, with secrets kept out."""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pfdrill.drill import fake, suite, suitefile
from pfdrill.model.result import SuiteResult
from pfdrill.model.severity import Severity
from pfdrill.report import bundle, redact, runs, writer

REPO = Path(__file__).resolve().parents[3]
SLACK = "https://hooks.slack.com/services/T0001/B0002/abcdefSECRETxyz"
FILES = ("junit.xml", "report.html", "summary.md", "evidence.json")


def run_suite(tmp_path: Path, only: str, sabotage: Callable[[fake.FakeWorld], None]
              ) -> tuple[Path, SuiteResult]:
    spec = suitefile.select(suitefile.load(REPO / "drills" / "weekly.yaml"), [only])
    world = fake.FakeWorld()
    sabotage(world)
    out = tmp_path / "reports" / "run-1"
    rw = writer.ReportWriter(out, secrets=(fake.FAKE_WEBHOOK,))
    factory = fake.FakeEnvironmentFactory(world, tmp_path / "state")
    result = suite.SuiteRunner(spec, factory, run_id="run-1", writers=[rw]).run()
    return out, result


def texts(out: Path) -> dict[str, str]:
    return {name: (out / name).read_text(encoding="utf-8") for name in FILES}


FAILURES: dict[str, tuple[str, Callable[[fake.FakeWorld], None], str, str]] = {
    "detection misses its SLA": (
        "adapter-fail-open", lambda w: w.silenced.add("PolicyAdapterFailingOpen"), "detect",
        "no notification for PolicyAdapterFailingOpen within 45 s of injection"),
    "classification differs": (
        "high-reject-rate", lambda w: setattr(w, "severity_override", Severity.SEV3),
        "classify", "classified as SEV-3"),
    "a runbook step is broken": (
        "adapter-fail-open",
        lambda w: w.broken_sections.update({"Immediate Mitigation": "error: invalid value"}),
        "respond", "runbook section 'Incident Response Actions / Immediate Mitigation'"),
    "recovery does not restore steady state": (
        "certificate-corruption", lambda w: w.sticky_faults.add("certificate_corruption"),
        "recover", "recovery did not restore steady state: trust bundle: observed corrupt"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failing_phase_and_reason_appear_in_every_format(tmp_path: Path, case: str) -> None:
    drill, sabotage, phase, reason = FAILURES[case]
    out, result = run_suite(tmp_path, drill, sabotage)
    assert not result.passed
    t = texts(out)
    # JUnit: a failure whose message is "<phase>: <reason>"
    tc = ET.fromstring(t["junit.xml"]).find(".//testcase")
    assert tc is not None and tc.get("name") == drill
    failure = tc.find("failure")
    assert failure is not None and failure.get("type") == phase
    assert failure.get("message", "").startswith(f"{phase}: ") and reason in failure.get(
        "message", "")
    # Markdown: the table row and the details
    assert f"| {drill} | ❌ failed | {phase} |" in t["summary.md"] and reason in t["summary.md"]
    # HTML: the banner
    assert f"FAILED in {phase}:" in t["report.html"]
    assert reason.replace("'", "&#39;") in t["report.html"]
    # JSON: the record
    (rec,) = json.loads(t["evidence.json"])["suite"]["results"]
    assert rec["failing_phase"] == phase and reason in rec["reason"]


def test_a_passing_run_writes_every_format_and_valid_sums(tmp_path: Path) -> None:
    out, result = run_suite(tmp_path, "adapter-fail-open", lambda w: None)
    assert result.passed
    t = texts(out)
    root = ET.fromstring(t["junit.xml"])
    assert root.get("tests") == "1" and root.get("failures") == "0"
    assert "1/1 drills passed" in t["summary.md"]
    sums = (out / bundle.SUMS).read_text().splitlines()
    names = {line.split("  ", 1)[1] for line in sums}
    assert names == {"junit.xml", "report.html", "summary.md", "evidence.json"}
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    doc = json.loads(t["evidence.json"])
    for name, digest in doc["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert runs.load(out) == result.__class__.from_dict(doc["suite"])
    assert runs.find(tmp_path / "reports", None) == out


def test_html_is_self_contained(tmp_path: Path) -> None:
    out, _ = run_suite(tmp_path, "high-reject-rate", lambda w: None)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<style>" in page
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", page, re.I)
    assert not re.search(r"url\(|@import", page, re.I)
    refs = re.findall(r"\b(?:src|href)\s*=\s*[\"']?([^\"'\s>]*)", page, re.I)
    assert refs and all(ref.startswith("#") for ref in refs), refs  # in-page anchors only
    assert "//" not in re.sub(r"<pre>.*?</pre>", "", page, flags=re.S).replace("<!doctype", "")


def test_secrets_and_webhook_urls_never_reach_a_report(tmp_path: Path) -> None:
    leak = (f"curl -X POST {fake.FAKE_WEBHOOK} failed; SLACK_WEBHOOK={SLACK} "
            "Authorization: Bearer s3cr3t-t0ken password=hunter22 "
            "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----")
    out, _ = run_suite(tmp_path, "adapter-fail-open",
                       lambda w: w.broken_sections.update({"Incident Declaration": leak}))
    for name, text in texts(out).items():
        for secret in (fake.FAKE_WEBHOOK, "hooks.slack.com", "abcdefSECRETxyz", "s3cr3t-t0ken",
                       "hunter22", "MIIEvQ", "fake-secret-token"):
            assert secret not in text, f"{secret} leaked into {name}"
        assert "[REDACTED" in text, name


@pytest.mark.parametrize(("text", "expected"), [
    ("TEAM_WEBHOOK=http://127.0.0.1:8080/team/x", "TEAM_WEBHOOK=[REDACTED]"),
    ("posted to http://127.0.0.1:39211/security/abc ok", "posted to [REDACTED-URL] ok"),
    ("see https://user:pa55@example.org/x", "see https://[REDACTED]@example.org/x"),
    ("prometheus at http://127.0.0.1:9090/api/v1/rules", "prometheus at http://127.0.0.1:9090/api/v1/rules"),
    ("api_key: abc123def", "api_key: [REDACTED]"),
])
def test_redactor_patterns(text: str, expected: str) -> None:
    assert redact.Redactor().text(text) == expected


def test_known_secrets_are_masked_whole() -> None:
    r = redact.Redactor(["tok-123456", "short"])
    assert r.text("a tok-123456 b short") == "a [REDACTED] b short"  # too short to be a secret


class _WithSecret(fake.FakeEnvironmentFactory):
    """The fake environment, knowing one more secret that no generic pattern would catch."""

    def __init__(self, world: fake.FakeWorld, state: Path, secret: str) -> None:
        super().__init__(world, state)
        self.secret = secret

    def build(self, profile: Any) -> Any:
        import dataclasses

        env = super().build(profile)
        return dataclasses.replace(env, secrets=(*env.secrets, self.secret))


def test_the_environments_secrets_reach_the_writer_by_the_one_path(tmp_path: Path) -> None:
    """Nobody hands the writer the secrets: the sequencer tells it what the environment knows."""
    canary = "canary-7f3e9a0c"
    spec = suitefile.select(suitefile.load(REPO / "drills" / "weekly.yaml"),
                            ["adapter-fail-open"])
    world = fake.FakeWorld()
    world.broken_sections["Incident Declaration"] = f"exported {canary} to the log"
    out = tmp_path / "reports" / "run-1"
    rw = writer.ReportWriter(out)
    suite.SuiteRunner(spec, _WithSecret(world, tmp_path / "state", canary), run_id="run-1",
                      writers=[rw]).run()
    for name, text in texts(out).items():
        assert canary not in text, f"{canary} leaked into {name}"
    assert canary in rw.secrets


def test_mttd_bound_and_gap_appear_with_a_slow_pipeline_warning(tmp_path: Path) -> None:
    def slow(world: fake.FakeWorld) -> None:
        world.detect_delay_s, world.notify_delay_s = 8.0, 2.0  # 9.8 s against a 3 s bound

    out, result = run_suite(tmp_path, "adapter-fail-open", slow)
    assert result.passed  # a warning, not a failure
    t = texts(out)
    assert "| MTTD | Bound | Gap |" in t["summary.md"]
    assert "| 9.8 s | 3.0 s | +6.8 s ⚠️ |" in t["summary.md"]
    assert ("- **adapter-fail-open**: PolicyAdapterFailingOpen: MTTD 9.8 s, bound 3.0 s, "
            "gap +6.8 s (margin 3 s)") in t["summary.md"]
    assert "### ⚠️ Slow detection pipeline" in t["summary.md"]
    assert "slow pipeline</span>" in t["report.html"] and "<b>Slow detection pipeline</b>" in t["report.html"]
    assert "rate, fault size unknown" not in t["report.html"]
    props = {p.get("name"): p.get("value") for p in ET.fromstring(t["junit.xml"]).iter("property")}
    assert props["mttd_bound"] == "3.000" and props["mttd_gap"] == "6.800"
    assert props["warning"].startswith("slow detection pipeline: PolicyAdapterFailingOpen")
    (rec,) = json.loads(t["evidence.json"])["suite"]["results"]
    assert rec["evidence"]["pace"]["bound_s"] == 3.0


def test_a_pipeline_within_its_margin_shows_no_warning(tmp_path: Path) -> None:
    def quick(world: fake.FakeWorld) -> None:
        world.detect_delay_s, world.notify_delay_s = 2.5, 1.0

    out, _ = run_suite(tmp_path, "adapter-fail-open", quick)
    t = texts(out)
    assert "| 3.3 s | 3.0 s | +0.3 s |" in t["summary.md"]
    assert "Slow detection pipeline" not in t["summary.md"] + t["report.html"]
