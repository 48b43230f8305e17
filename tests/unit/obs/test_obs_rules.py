"""The one rule source rendered for both timing profiles, checked and unit-tested by promtool."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pfdrill.classify import thresholds
from pfdrill.errors import InvalidInput
from pfdrill.formats import duration
from pfdrill.model.severity import Severity
from pfdrill.obs import profile as profiles
from pfdrill.obs import rules

SOURCE = rules.alerts_dir() / rules.RULES_FILE


def test_promtool_checks_and_unit_tests_pass(tmp_path: Path) -> None:
    # Both profiles as committed are promtool-tested in test_obs_rulefiles; this is the
    # path of `pfdrill alerts check` (render the templates somewhere, then promtool).
    result = rules.verify(profiles.get("drill"), tmp_path)
    assert result.ok, result.output
    assert result.rules == 35
    assert set(result.tests) == {"sev1.yml", "sev2.yml", "sev3.yml", "baseline.yml"}


def test_the_unit_tests_cover_every_alert_on_both_sides(tmp_path: Path) -> None:
    _, tests = rules.render_suite(tmp_path, profiles.get("drill"))
    silent: set[str] = set()
    firing: set[str] = set()
    for path in tests:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    names = {a.name for a in rules.load(tmp_path / rules.RENDERED_FILE).alerts}
    assert silent == names
    assert firing == names


def test_every_sev123_row_has_an_alert_with_its_labels() -> None:
    table = thresholds.load()
    ruleset = rules.parse(rules.render(SOURCE, profiles.get("drill")), SOURCE)
    for row in table.rows:
        alerts = ruleset.for_row(row.id)
        if row.severity is Severity.SEV4:
            assert alerts == ()
            continue
        (alert,) = alerts
        assert alert.severity is row.severity
        assert alert.signal == row.indicator.value
        assert alert.runbook_section
    assert {a.row for a in ruleset.alerts} <= {r.id for r in table.rows}


@pytest.mark.parametrize(("name", "window", "hold"), [("drill", "30s", 2.0), ("production", "5m", 60.0)])
def test_profiles_differ_only_in_timing(name: str, window: str, hold: float) -> None:
    text = rules.render(SOURCE, profiles.get(name))
    assert "${" not in text
    assert f"[{window}]" in text
    ruleset = rules.parse(text, SOURCE)
    assert {a.for_s for a in ruleset.alerts} == {hold}
    drill = rules.parse(rules.render(SOURCE, profiles.get("drill")), SOURCE)
    assert [(a.name, a.labels) for a in ruleset.alerts] == [(a.name, a.labels) for a in drill.alerts]


def test_rendering_keeps_the_source_line_numbers() -> None:
    text = rules.render(SOURCE, profiles.get("production"))
    source_lines = SOURCE.read_text().splitlines()
    rendered = text.splitlines()
    assert len(rendered) == len(source_lines) + 1  # the trailer
    assert rendered[:5] == source_lines[:5]


def test_unknown_placeholder_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yml"
    bad.write_text(SOURCE.read_text().replace("[${window}]", "[${windw}]", 1))
    line = next(i for i, t in enumerate(bad.read_text().splitlines(), 1) if "${windw}" in t)
    with pytest.raises(InvalidInput) as exc:
        rules.render(bad, profiles.get("drill"))
    assert str(exc.value).startswith(f"{bad}:{line}: unknown placeholder ${{windw}}")


@pytest.mark.parametrize(("edit", "expected"), [
    (("          row: ni_monitor_rejects\n", ""), "alert 'NiMonitorRejects' lacks label(s) row"),
    (("severity: SEV-2\n          runbook_section: Incident Investigation > Policy Violation Analysis\n          row: ni",
      "severity: SEV-9\n          runbook_section: Incident Investigation > Policy Violation Analysis\n          row: ni"),
     "alert 'NiMonitorRejects': unknown severity 'SEV-9'"),
    (("- alert: NiMonitorRejects", "- alert: WitnessValidationFailures"),
     "alert 'WitnessValidationFailures' is defined twice"),
    (("      - alert: NiMonitorRejects\n        expr: pfdrill:ni_reject_rate > 1\n",
      "      - alert: NiMonitorRejects\n"), "rule has no 'expr'"),
])
def test_structural_errors_name_the_rule(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    text = SOURCE.read_text()
    assert edit[0] in text
    bad = tmp_path / "rules.yml"
    bad.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(InvalidInput) as exc:
        rules.render(bad, profiles.get("drill"))
    message = str(exc.value)
    assert message.startswith(f"{bad}:") and expected in message, message


def test_durations() -> None:
    assert [duration.seconds(t) for t in ("5m", "1m30s", "500ms", "2h", "10s")] == [300, 90, 0.5, 7200, 10]
    with pytest.raises(InvalidInput):
        duration.seconds("5 minutes")
    assert [duration.text(s) for s in (300, 10, 0.5, 3900, 90)] == ["5m", "10s", "500ms", "65m", "90s"]
    with pytest.raises(InvalidInput, match="unknown timing profile 'fast'"):
        profiles.get("fast")
