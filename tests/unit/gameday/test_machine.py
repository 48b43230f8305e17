"""The game day's state machine: what is allowed when, for whom, and what each change does."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.gameday import machine, plan
from pfdrill.model.gameday import (
    Action,
    Command,
    GameDayPlan,
    GameDayState,
    GameDayStatus,
    InjectStatus,
    Role,
)
from pfdrill.model.phases import Outcome, Watch
from pfdrill.model.watch import Measure, Milestone

REPO = Path(__file__).resolve().parents[3]
FIRST, SECOND = "enforcement-disabled-drift", "adapter-fail-open"


@pytest.fixture(scope="module")
def gplan() -> GameDayPlan:
    return plan.load(REPO / "drills" / "gameday.yaml")


@pytest.fixture
def ready(gplan: GameDayPlan) -> GameDayState:
    return machine.new("gd", gplan, 1000.0)


def running(state: GameDayState, name: str = FIRST) -> GameDayState:
    s = machine.starting(state, name, 1010.0)
    return machine.injected(s, name, t0_wall=1010.0, injected_at=10.0, incident_id="DRILL-gd")


def refused(state: GameDayState, cmd: Command, words: str, role: Role = Role.FACILITATOR) -> None:
    with pytest.raises(InvalidInput, match=words):
        machine.check(state, cmd, role)


def test_one_inject_at_a_time(ready: GameDayState) -> None:
    machine.check(ready, Command(Action.INJECT, drill=FIRST))
    refused(ready, Command(Action.INJECT, drill="nope"), "no inject 'nope'")
    s = machine.starting(ready, FIRST, 1010.0)
    assert s.current == FIRST and s.inject(FIRST).status is InjectStatus.STARTING  # type: ignore[union-attr]
    refused(s, Command(Action.INJECT, drill=SECOND), "still running")
    refused(s, Command(Action.PAUSE), "still starting")
    refused(s, Command(Action.ROLLBACK), "being injected")
    machine.check(s, Command(Action.ABORT))


def test_pause_resume_and_game_time(ready: GameDayState) -> None:
    s = running(ready)
    st = s.inject(FIRST)
    assert st is not None and st.injected_wall == 1020.0
    s = machine.apply(s, Command(Action.PAUSE), 1030.0)
    refused(s, Command(Action.PAUSE), "already paused")
    s = machine.apply(s, Command(Action.RESUME), 1090.0)
    refused(s, Command(Action.RESUME), "not paused")
    st = s.inject(FIRST)
    assert st is not None and st.paused_s(1100.0) == 60.0
    assert st.game_time(1100.0) == 20.0  # 80 s since the injection, 60 of them paused


def test_extend_hint_reveal_and_notes(ready: GameDayState, gplan: GameDayPlan) -> None:
    s = running(ready)
    s = machine.apply(s, Command(Action.EXTEND, seconds=30, measure="declaration"), 1030.0)
    s = machine.apply(s, Command(Action.EXTEND, seconds=10), 1031.0)
    inject = gplan.inject(FIRST)
    st = s.inject(FIRST)
    assert inject is not None and st is not None
    assert st.budget(inject, Measure.DECLARATION) == inject.budget(Measure.DECLARATION) + 40
    assert st.budget(inject, Measure.DETECTION) == inject.budget(Measure.DETECTION) + 10
    refused(s, Command(Action.EXTEND, seconds=0), "more than 0")
    refused(s, Command(Action.EXTEND, seconds=5, measure="lunch"), "unknown measure")
    s = machine.apply(s, Command(Action.HINT, hint=2), 1040.0)
    s = machine.apply(s, Command(Action.HINT, text="look at the adapter"), 1041.0)
    refused(s, Command(Action.HINT, hint=9), "no hint 9")
    refused(s, Command(Action.HINT), "needs a text")
    assert [h.text for h in s.inject(FIRST).hints] == [inject.hints[1], "look at the adapter"]  # type: ignore[union-attr]
    s = machine.apply(s, Command(Action.REVEAL), 1050.0)
    assert s.inject(FIRST).revealed  # type: ignore[union-attr]
    refused(s, Command(Action.REVEAL, drill=FIRST), "revealed already")
    s = machine.apply(s, Command(Action.NOTE, text="they found the ConfigMap", author="Ann"),
                      1060.0, Role.OBSERVER)
    assert s.notes[-1].author == "Ann" and s.notes[-1].inject == FIRST
    refused(s, Command(Action.NOTE, text="  "), "needs a text", Role.OBSERVER)


def test_roles(ready: GameDayState) -> None:
    s = running(ready)
    refused(s, Command(Action.PAUSE), "for the facilitator, not for observers", Role.OBSERVER)
    refused(s, Command(Action.NOTE, text="hi"), "not for responders", Role.RESPONDER)
    refused(s, Command(Action.ABORT), "not for responders", Role.RESPONDER)
    machine.check(s, Command(Action.NOTE, text="hi"), Role.OBSERVER)


def test_measured_finished_and_end(ready: GameDayState) -> None:
    s = running(ready)
    watch = Watch(Outcome.passed("watching"), milestones=(Milestone(Measure.DETECTION, 16.0),),
                  rolled_back_at=40.0)
    s = machine.measured(s, FIRST, watch)
    st = s.inject(FIRST)
    assert st is not None and st.reached(Measure.DETECTION) is not None
    assert st.rolled_back_wall == 1050.0
    refused(s, Command(Action.ROLLBACK), "rolled back already")
    s = machine.apply(s, Command(Action.PAUSE), 1060.0)
    s = machine.finished(s, FIRST, InjectStatus.RECOVERED, "recovered", 1070.0, restored=True)
    st = s.inject(FIRST)
    assert st is not None and not st.paused and st.pauses[-1].end == 1070.0
    assert s.current is None
    refused(s, Command(Action.INJECT, drill=FIRST), "has been played")
    refused(s, Command(Action.ABORT), "no inject is running")
    with pytest.raises(ValueError):
        machine.finished(s, FIRST, InjectStatus.RUNNING, "", 1080.0, restored=None)
    s = machine.end(s, 1100.0)
    assert s.status is GameDayStatus.FINISHED
    refused(s, Command(Action.INJECT, drill=SECOND), "has ended")


def test_a_failed_start_may_be_tried_again(ready: GameDayState) -> None:
    s = machine.starting(ready, FIRST, 1010.0)
    s = machine.finished(s, FIRST, InjectStatus.NOT_STARTED, "preflight failed", 1020.0,
                         restored=True)
    machine.check(s, Command(Action.INJECT, drill=FIRST))
    with pytest.raises(InvalidInput):
        machine.end(machine.starting(s, FIRST, 1030.0), 1040.0)
