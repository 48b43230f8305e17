"""Feature files checked before a drill: pytest-bdd's Gherkin, pfdrill's steps, the faults' parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.bdd import featurefile
from pfdrill.errors import InvalidInput

FEATURES = sorted((Path(__file__).resolve().parents[3] / "features").glob("*.feature"))

GOOD = """Feature: Enforcement disabled
  Background:
    Given the drill cluster is available

  Scenario Outline: drift (<mode>)
    When the fault "enforcement_disabled" is injected with mode=<mode>
    Then an alert "PolicyEnforcementDisabled" fires within 45 seconds
    And the success criteria "root_cause_documented, mitigation_implemented" are met

    Examples:
      | mode     |
      | disabled |
"""


@pytest.mark.parametrize("path", FEATURES, ids=lambda p: p.stem)
def test_the_projects_features_check(path: Path) -> None:
    checked = featurefile.check(path)
    assert checked and all(s.definition for s in checked)


def _error(tmp_path: Path, text: str) -> InvalidInput:
    path = tmp_path / "f.feature"
    path.write_text(text)
    with pytest.raises(InvalidInput) as err:
        featurefile.check(path)
    assert err.value.file == str(path)
    return err.value


def test_outlines_are_rendered_and_every_step_is_matched(tmp_path: Path) -> None:
    path = tmp_path / "good.feature"
    path.write_text(GOOD)
    steps = featurefile.check(path)
    assert [(s.line, s.definition) for s in steps] == [
        (3, "cluster_available"), (6, "inject"), (7, "alert_fires"), (8, "some_criteria")]
    assert steps[1].text == 'the fault "enforcement_disabled" is injected with mode=disabled'


@pytest.mark.parametrize(("edit", "line", "message"), [
    (("fires within 45 seconds", "fires eventually"), 7,
     "no pfdrill step says Then 'an alert \"PolicyEnforcementDisabled\" fires eventually'"),
    (("enforcement_disabled\" is", "meteor_strike\" is"), 6, "unknown fault 'meteor_strike'"),
    (("mode=<mode>", "mode=<mode>, fraction=2"), 6, "unknown parameter(s) fraction"),
    (("root_cause_documented", "root_cause_guessed"), 8, "unknown success criterion"),
    (("      | disabled |\n", '      | disabled |\n  Scenario: open\n    Given x\n    """\n'), 16,
     "not valid Gherkin: unexpected end of file, expected: #DocStringSeparator, #Other"),
    (("Feature: Enforcement disabled\n", "Given x\nFeature: Enforcement disabled\n"), 1,
     "not valid Gherkin: Step definition outside of a Scenario or a Background."),
])
def test_problems_name_their_line(tmp_path: Path, edit: tuple[str, str], line: int,
                                  message: str) -> None:
    assert edit[0] in GOOD
    err = _error(tmp_path, GOOD.replace(edit[0], edit[1], 1))
    assert err.line == line and message in err.message, err.one_line()


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="feature file does not exist"):
        featurefile.check(tmp_path / "none.feature")
    (tmp_path / "latin.feature").write_bytes(b"Feature: caf\xe9\n")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        featurefile.check(tmp_path / "latin.feature")
