"""Game-day files: drills/gameday.yaml loads; a bad gameday: block names file, line and problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.gameday import plan
from pfdrill.model.watch import Measure

REPO = Path(__file__).resolve().parents[3]

DRILLS = """\
suite: mini
defaults:
  runbook: rb.md
drills:
  - name: one
    fault: {name: enforcement_disabled}
    expect: {severity: SEV-1, alerts: [PolicyEnforcementDisabled]}
    runbook: {respond: [Immediate Mitigation]}
    mitigation:
      - configmap: {name: policy-config, key: enforcement_mode, equals: disabled}
    sla: {detect: 30, resolve: 300}
  - name: two
    fault: {name: high_reject_rate, params: {multiplier: 12}}
    expect: {severity: SEV-2, alerts: [RejectRateSpikeHigh]}
    runbook: {respond: [Immediate Mitigation]}
    mitigation:
      - replicas: {deployment: sidecar-watcher, equals: 3}
"""


def write(tmp_path: Path, gameday: str) -> Path:
    path = tmp_path / "gd.yaml"
    path.write_text(DRILLS + textwrap.dedent(gameday))
    return path


def test_the_shipped_game_day_loads() -> None:
    gp = plan.load(REPO / "drills" / "gameday.yaml")
    assert gp.title == "Policy enforcement game day"
    assert [i.title for i in gp.injects] == ["Inject 1", "Inject 2", "Inject 3"]
    first = gp.injects[0]
    assert first.name == "enforcement-disabled-drift" and first.hints
    assert first.budget(Measure.DECLARATION) == 120
    assert first.rollback_when_mitigated


def test_budgets_default_to_the_drills_sla_cumulated(tmp_path: Path) -> None:
    gp = plan.load(write(tmp_path, """\
        gameday:
          title: T
          sla: {mitigation: 500}
          injects:
            - drill: two
              sla: {detection: 50}
              rollback: facilitator
            - drill: one
              timebox: 100
        """))
    two, one = gp.injects
    assert (two.name, two.title, one.title) == ("two", "Inject 1", "Inject 2")
    assert two.budget(Measure.DETECTION) == 50 and two.budget(Measure.MITIGATION) == 500
    assert not two.rollback_when_mitigated and one.rollback_when_mitigated
    # one: detect 30; declaration = detect + classify (60); recovery = resolve
    assert one.budget(Measure.DETECTION) == 30 and one.budget(Measure.DECLARATION) == 90
    assert one.budget(Measure.RECOVERY) == 300 and one.timebox_s == 100
    assert two.timebox_s == plan.TIMEBOX_FACTOR * two.budget(Measure.RECOVERY)


def test_every_drill_is_an_inject_by_default(tmp_path: Path) -> None:
    gp = plan.load(write(tmp_path, "gameday: {title: T}\n"))
    assert gp.names == ("one", "two")


@pytest.mark.parametrize(("block", "line", "words"), [
    ("gameday:\n  title: T\n  injects:\n    - drill: three\n", 21, "no drill 'three'"),
    ("gameday:\n  title: T\n  injects:\n    - drill: one\n    - drill: one\n", 22,
     "played twice"),
    ("gameday:\n  title: T\n  rollback: sometimes\n", 20, "'sometimes' is not one of"),
    ("gameday:\n  title: T\n  sla: {detection: -5}\n", 20, "detection"),
    ("gameday:\n  title: T\n  injects:\n    - drill: one\n      hint: [x]\n", 22,
     "unknown key 'hint'"),
    ("gameday:\n  titel: T\n", 18, "'title' is a required property"),
    ("gameday:\n  title: T\n  injects:\n    - {drill: one, title: A}\n    - {drill: two, title: A}\n",
     20, "titled 'A'"),
])
def test_a_bad_block_is_one_line_with_file_and_line(tmp_path: Path, block: str, line: int,
                                                    words: str) -> None:
    path = write(tmp_path, block)
    with pytest.raises(InvalidInput) as err:
        plan.load(path)
    assert err.value.file == str(path) and err.value.line == line
    assert words in err.value.one_line() and "\n" not in err.value.one_line()


def test_a_drill_file_without_a_game_day(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(DRILLS)
    with pytest.raises(InvalidInput, match="no 'gameday:' block"):
        plan.load(path)
