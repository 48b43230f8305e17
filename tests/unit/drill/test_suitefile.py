"""Drill files: the weekly suite loads; every kind of bad input names file, line and problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pfdrill.drill import fake, suitefile
from pfdrill.errors import InvalidInput
from pfdrill.model.drill import CheckKind, Op
from pfdrill.model.severity import Severity
from pfdrill.model.sla import TimingProfile

GOOD = """\
suite: mini
defaults:
  runbook: rb.md
drills:
  - name: one
    fault:
      name: adapter_failure
      params: {failure_mode: fail_open}
    expect:
      severity: SEV-1
      alerts: [PolicyAdapterFailingOpen]
    runbook:
      respond: [Immediate Mitigation]
    mitigation:
      - configmap: {name: policy-config, key: enforcement_mode, equals: disabled}
      - replicas: {deployment: sidecar-watcher, of: ready, at_least: 2}
      - notification: {channel: security, at_least: 1, matching: disabled}
      - log: {selector: app=sidecar-watcher, matches: "BYPASS|OVERRIDE"}
      - metric: {query: "pfdrill:enforcement_disabled", below: 1}
      - steady_state: true
    sla: {detect: 30, production: {detect: 600}}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "suite.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_weekly_has_the_three_named_faults_and_two_more(weekly: object) -> None:
    suite = suitefile.load(Path(__file__).resolve().parents[3] / "drills" / "weekly.yaml")
    faults = [d.fault.name for d in suite.drills]
    assert {"adapter_failure", "certificate_corruption", "high_reject_rate"} <= set(faults)
    assert len(set(faults)) >= 5
    for d in suite.drills:
        assert d.expected_alerts and d.mitigation and d.runbook and d.runbook.respond
        assert d.criteria == ("all",)


def test_weekly_passes_the_catalog_and_runbook_checks_of_the_fakes(tmp_path: Path) -> None:
    suite = suitefile.load(Path(__file__).resolve().parents[3] / "drills" / "weekly.yaml")
    env = fake.environment(fake.FakeWorld(), tmp_path)
    suitefile.check(suite, env.faults, env.runbook)


def test_a_good_file_becomes_typed_specs(tmp_path: Path) -> None:
    suite = suitefile.load(write(tmp_path, GOOD))
    (d,) = suite.drills
    assert d.expected_severity is Severity.SEV1 and d.profile is TimingProfile.DRILL
    assert d.sla.budget.__self__.phases["detect"] == 30.0  # type: ignore[attr-defined]
    assert d.runbook is not None and d.runbook.path == str(tmp_path / "rb.md")
    kinds = [(c.kind, c.op, c.value) for c in d.mitigation]
    assert kinds == [
        (CheckKind.CONFIGMAP, Op.EQ, "disabled"), (CheckKind.REPLICAS, Op.GE, "2"),
        (CheckKind.NOTIFICATION, Op.GE, "1"), (CheckKind.LOG, Op.CONTAINS, "BYPASS|OVERRIDE"),
        (CheckKind.METRIC, Op.LT, "1"), (CheckKind.STEADY_STATE, Op.EQ, "")]
    assert d.source is not None and d.source.line == 5


def test_profile_override_takes_the_profile_budgets(tmp_path: Path) -> None:
    (d,) = suitefile.load(write(tmp_path, GOOD), profile=TimingProfile.PRODUCTION).drills
    assert d.profile is TimingProfile.PRODUCTION
    assert d.sla.phases["detect"] == 600.0
    assert d.sla.resolve == 3600.0  # the production default for SEV-1


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("severity: SEV-1", "severity: SEV-5", 10,
     "drills[0].expect.severity: 'SEV-5' is not one of 'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4'"),
    ("      name: adapter_failure", "      name: adapter_failure\n      nmae: x", 8,
     "drills[0].fault: unknown key 'nmae' (allowed: name, params)"),
    ("      - steady_state: true", "      - steady_state: true\n        replicas: {}", 20,
     "a check is a mapping with exactly one of"),
    ("sla: {detect: 30,", "sla: {detect: -3,", 21, "drills[0].sla.detect: -3 is less than"),
    ("matches: \"BYPASS|OVERRIDE\"", "matches: \"BYPASS(\"", 18,
     "drills[0].mitigation[3]: log check: 'BYPASS(' is not a regular expression"),
    ("  runbook: rb.md\n", "  other: 1\n", 3, "defaults: unknown key 'other'"),
    ("      alerts: [PolicyAdapterFailingOpen]", "      alerts: []", 11,
     "drills[0].expect.alerts: [] should be non-empty"),
])
def test_schema_problems_name_file_line_and_problem(tmp_path: Path, old: str, new: str,
                                                    line: int, message: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(InvalidInput) as info:
        suitefile.load(path)
    err = info.value
    assert err.file == str(path) and err.line == line, err.one_line()
    assert message in err.message, err.message
    assert err.one_line().startswith(f"{path}:{line}: ")


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    expect:\n", "    expect: [\n"))
    with pytest.raises(InvalidInput) as info:
        suitefile.load(path)
    assert info.value.line is not None and "not valid YAML" in info.value.message


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("      severity: SEV-1\n",
                                        "      severity: SEV-1\n      severity: SEV-2\n"))
    with pytest.raises(InvalidInput) as info:
        suitefile.load(path)
    assert info.value.line == 11 and "duplicate key 'severity'" in info.value.message


def test_duplicate_drill_names_are_refused(tmp_path: Path) -> None:
    body = GOOD.split("drills:\n")[1]
    path = write(tmp_path, GOOD + body)
    with pytest.raises(InvalidInput) as info:
        suitefile.load(path)
    assert "duplicate drill name 'one' (first on line 5)" in info.value.message


def test_missing_file_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="file does not exist"):
        suitefile.load(tmp_path / "nope.yaml")
    with pytest.raises(InvalidInput, match="a drill file is a mapping"):
        suitefile.load(write(tmp_path, "- a\n- b\n"))


def test_runbook_path_is_required_somewhere(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("defaults:\n  runbook: rb.md\n", ""))
    with pytest.raises(InvalidInput) as info:
        suitefile.load(path)
    assert info.value.line == 10 and "no runbook path" in info.value.message


def test_check_names_unknown_faults_bad_params_and_sections(tmp_path: Path) -> None:
    env = fake.environment(fake.FakeWorld(), tmp_path)
    for old, new, message in [
        ("name: adapter_failure", "name: adapter_meltdown", "unknown fault 'adapter_meltdown'"),
        ("failure_mode: fail_open", "failure_mode: fail_sideways",
         "failure_mode='fail_sideways' is not one of fail_closed, fail_open"),
        ("respond: [Immediate Mitigation]", "respond: [Immediate Mitigatoin]",
         "section 'Immediate Mitigatoin' is not in the runbook"),
    ]:
        suite = suitefile.load(write(tmp_path, GOOD.replace(old, new)))
        with pytest.raises(InvalidInput) as info:
            suitefile.check(suite, env.faults, env.runbook)
        assert info.value.line == 5 and "drill 'one'" in info.value.message
        assert message in info.value.message


def test_select_only_known_names(tmp_path: Path) -> None:
    suite = suitefile.load(write(tmp_path, GOOD))
    assert suitefile.select(suite, ["one"]).drills == suite.drills
    with pytest.raises(InvalidInput, match="no drill named 'two' in this suite"):
        suitefile.select(suite, ["two"])
