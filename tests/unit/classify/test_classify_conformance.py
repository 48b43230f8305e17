"""Threshold conformance runs promtool against generated series at each boundary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pfdrill.classify import conformance, thresholds
from pfdrill.cli import main
from pfdrill.obs import rules

SOURCE = rules.alerts_dir() / rules.RULES_FILE


@pytest.fixture(scope="module")
def table() -> thresholds.ThresholdTable:
    return thresholds.load()


def test_the_shipped_rules_conform_in_both_profiles(table: thresholds.ThresholdTable) -> None:
    report = conformance.check(table)
    assert report.ok, conformance.table_text(report)
    assert report.profiles == ("drill", "production")
    assert {r.row.id for r in report.rows} == {r.id for r in table.rows}
    cert = next(r for r in report.rows if r.row.id == "cert_verification_failures")
    (boundary,) = cert.boundaries
    assert boundary.inside == pytest.approx(0.0102)
    assert boundary.outside == pytest.approx(0.0098)
    assert boundary.fired == {"drill": (True, False), "production": (True, False)}
    assert boundary.observed["drill"] == "switches between 0.0098 and 0.0102"
    medium = next(r for r in report.rows if r.row.id == "performance_degradation_medium")
    assert [b.bound for b in medium.boundaries] == [">= 0.2", "<= 0.5"]


def _moved(tmp_path: Path, old: str, new: str) -> Path:
    text = SOURCE.read_text()
    assert old in text
    moved = tmp_path / "rules.yml"
    moved.write_text(text.replace(old, new, 1))
    return moved


def test_a_moved_threshold_fails_naming_its_row(tmp_path: Path, table: thresholds.ThresholdTable) -> None:
    moved = _moved(tmp_path, "pfdrill:cert_failure_ratio > 0.01", "pfdrill:cert_failure_ratio > 0.015")
    report = conformance.check(table, moved, ["drill"])
    assert [r.row.id for r in report.failing()] == ["cert_verification_failures"]
    (failing,) = report.failing()
    assert failing.problems[0] == "[drill] silent at 0.0102; the row says it must fire (> 0.01)"
    # The refined scan locates the moved threshold to within a tenth of the bracket.
    observed = failing.boundaries[0].observed["drill"].split()
    assert observed[:2] == ["switches", "between"]
    low, high = float(observed[2]), float(observed[4])
    assert low < 0.015 < high and high - low < 0.001


def test_a_mislabelled_alert_fails_its_row(tmp_path: Path, table: thresholds.ThresholdTable) -> None:
    moved = _moved(tmp_path, "severity: SEV-2\n          runbook_section: Incident Investigation > Policy Violation Analysis\n          row: ni_monitor_rejects",
                   "severity: SEV-3\n          runbook_section: Incident Investigation > Policy Violation Analysis\n          row: ni_monitor_rejects")
    report = conformance.check(table, moved, ["drill"])
    assert [r.row.id for r in report.failing()] == ["ni_monitor_rejects"]
    assert report.failing()[0].problems == ("alert NiMonitorRejects is labelled SEV-3, the row says SEV-2",)


def test_conform_cli_prints_the_table_and_exits_by_verdict(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "conform", "--profile", "drill"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["ROW", "SEV", "CONDITION", "ALERT", "OBSERVED", "(drill)", "OK"]
    assert "reject_rate_spike_high" in out and "FAIL" not in out
    moved = _moved(tmp_path, "pfdrill:reject_rate_ratio >= 2 <= 10", "pfdrill:reject_rate_ratio >= 3 <= 10")
    assert main(["alerts", "conform", "--profile", "drill", "--rules", str(moved)]) == 1
    captured = capsys.readouterr()
    assert "pfdrill: not conforming: reject_rate_spike_medium" in captured.err
    assert "row reject_rate_spike_medium: [drill] silent at 2.04" in captured.out


def test_conform_refuses_a_malformed_rule_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    moved = _moved(tmp_path, "expr: pfdrill:ni_reject_rate > 1", "expr: pfdrill:ni_reject_rate > (1")
    assert main(["alerts", "conform", "--rules", str(moved)]) == 2
    err = capsys.readouterr().err.strip()
    line = next(i for i, t in enumerate(moved.read_text().splitlines(), 1) if "> (1" in t)
    assert err.startswith(f"pfdrill: error: {moved}:{line}: promtool check rules: ")
    assert "\n" not in err and "NiMonitorRejects" in err


def test_conform_refuses_a_bad_thresholds_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "thresholds.yaml"
    shutil.copy(thresholds.default_path(), bad)
    bad.write_text(bad.read_text().replace("  SEV-2:", "  SEV-7:"))
    assert main(["alerts", "conform", "--thresholds", str(bad)]) == 2
    assert "unknown severity 'SEV-7'" in capsys.readouterr().err
