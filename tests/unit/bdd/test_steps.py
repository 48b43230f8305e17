"""The Gherkin step library, exercised through pytester against the fake world."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = '''
import pytest
from pfdrill.drill import fake

SABOTAGE = {}

@pytest.fixture(scope="session")
def world():
    w = fake.FakeWorld()
    for key, value in SABOTAGE.items():
        getattr(w, key).update(value)
    return w

@pytest.fixture(scope="session")
def pfdrill_environment(world, tmp_path_factory):
    return fake.environment(world, tmp_path_factory.mktemp("state"))
'''

FEATURE = '''
Feature: Policy adapter failure
  Background:
    Given the drill cluster is available
    And the reference fabric is deployed
    And the fabric is in steady state

  Scenario Outline: The policy adapter fails (<failure_mode>)
    When the fault "adapter_failure" is injected with variant=scaled_to_zero, failure_mode=<failure_mode>
    Then an alert "<alert>" fires within 45 seconds
    And the incident is classified as <severity>
    When the runbook section "Initial Response / Incident Declaration" is executed
    And the runbook section "Incident Response Actions / Immediate Mitigation" is executed
    Then the deployment "sidecar-watcher" has <replicas> replicas within 30 seconds
    And the sink holds a "slack" notification within 10 seconds
    And the logs of "app=sidecar-watcher" contain "ERROR policy adapter" within 5 seconds
    When the fault is rolled back
    And the runbook section "Recovery Procedures / <recovery>" is executed
    Then the steady state is restored within 120 seconds
    And the ConfigMap "policy-config" has "enforcement_mode" set to "enforce" within 5 seconds
    And the metric "enforcement_mode{mode=\\"enforce\\"}" is 1 within 5 seconds
    When the runbook section "Post-Incident / Incident Documentation" is executed
    And the runbook section "Post-Incident / Post-Mortem" is executed
    And the runbook section "Post-Incident / Process Improvements" is executed
    And the runbook section "Communication / Stakeholder Updates" is executed
    And the runbook section "Communication / Team Communication" is executed
    Then all success criteria are met

    Examples:
      | failure_mode | alert                    | severity | replicas | recovery                    |
      | fail_open    | PolicyAdapterFailingOpen | SEV-1    | 0        | Policy Enforcement Recovery |
      | fail_closed  | RejectRateSpikeHigh      | SEV-2    | 3        | Performance Recovery        |
'''

TESTS = '''
from pytest_bdd import scenarios

scenarios("drills.feature")
'''


def setup(pytester: pytest.Pytester, sabotage: dict[str, object] | None = None,
          feature: str = FEATURE) -> None:
    pytester.makeconftest(CONFTEST + f"\nSABOTAGE.update({sabotage or {}!r})\n")
    pytester.makefile(".feature", drills=feature)
    pytester.makepyfile(test_drills=TESTS)


def test_scenario_outline_covers_both_adapter_failure_modes(pytester: pytest.Pytester) -> None:
    setup(pytester)
    result = pytester.runpytest("-v", "--junitxml=junit.xml")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*fail_open*PASSED*", "*fail_closed*PASSED*"])
    cases = ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")
    props = [{p.get("name"): p.get("value") for p in tc.iter("property")} for tc in cases]
    assert [p["pfdrill.verdict"] for p in props] == [
        "the-policy-adapter-fails-fail-open: PASSED", "the-policy-adapter-fails-fail-closed: PASSED"]
    assert all(float(p["pfdrill.mttd"] or 0) > 0 and float(p["pfdrill.mttr"] or 0) > 0 for p in props)
    assert str(props[0]["pfdrill.classify"]).startswith("passed")


def test_a_missed_alert_fails_the_step_and_the_cluster_is_restored(
        pytester: pytest.Pytester) -> None:
    setup(pytester, {"silenced": {"PolicyAdapterFailingOpen"}})
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)  # the fail_closed example still starts clean
    result.stdout.fnmatch_lines([
        "*StepFailed: detect: no notification for PolicyAdapterFailingOpen within 45 s*"])
    result.stdout.fnmatch_lines(["*restored*fault rolled back*"])


def test_a_wrong_classification_and_a_broken_step_name_their_phase(
        pytester: pytest.Pytester) -> None:
    setup(pytester, {"broken_sections": {"Immediate Mitigation": "kubectl: error: bad patch"}})
    result = pytester.runpytest("-v")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*StepFailed: respond: runbook section 'Incident Response "
                                 "Actions / Immediate Mitigation'*bad patch*"])


def test_reports_are_written_for_scenarios(pytester: pytest.Pytester) -> None:
    setup(pytester)
    result = pytester.runpytest("--pfdrill-reports", "out")
    result.assert_outcomes(passed=2)
    (run,) = (pytester.path / "out").iterdir()
    doc = json.loads((run / "evidence.json").read_text())
    names = [r["spec"]["name"] for r in doc["suite"]["results"]]
    assert names == ["the-policy-adapter-fails-fail-open", "the-policy-adapter-fails-fail-closed"]
    assert {r["spec"]["fault"]["params"]["failure_mode"] for r in doc["suite"]["results"]} == {
        "fail_open", "fail_closed"}
    assert (run / "report.html").is_file() and (run / "junit.xml").is_file()


def test_bad_fault_parameters_are_a_clear_error(pytester: pytest.Pytester) -> None:
    bad = FEATURE.replace("failure_mode=<failure_mode>", "failure_mode <failure_mode>")
    setup(pytester, feature=bad)
    result = pytester.runpytest()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*InvalidInput: fault parameter 'failure_mode fail_*' is not "
                                 "key=value*"])


def test_the_plugin_entry_point_is_cheap_to_import() -> None:
    import subprocess
    import sys

    code = ("import sys; import pfdrill.bdd.plugin; "
            "heavy = [m for m in ('pytest_bdd', 'pfdrill.drill', 'jsonschema', 'kubernetes', "
            "'jinja2') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent)
    assert out.stdout.strip() == ""
