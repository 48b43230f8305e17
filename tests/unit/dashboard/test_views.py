"""What each role sees of a game day: the responders do not see the answers until the reveal."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pfdrill.dashboard import views
from pfdrill.gameday import machine, plan
from pfdrill.model.gameday import Action, Command, GameDayState, Role
from pfdrill.model.live import LiveEvent, LiveKind, Observation, Source
from pfdrill.model.phases import Outcome, Watch
from pfdrill.model.timeline import EventKind, Phase, PhaseRecord, PhaseStatus, TimelineEvent
from pfdrill.model.watch import Declaration, Measure, Milestone

REPO = Path(__file__).resolve().parents[3]
NAME = "enforcement-disabled-drift"


@pytest.fixture
def state() -> GameDayState:
    gp = plan.load(REPO / "drills" / "gameday.yaml")
    s = machine.starting(machine.new("gd", gp, 0.0), NAME, 1.0)
    s = machine.injected(s, NAME, t0_wall=1.0, injected_at=5.0, incident_id="DRILL-gd-x")
    s = machine.apply(s, Command(Action.NOTE, text="they grep the logs", author="Ann"), 9.0,
                      Role.OBSERVER)
    watch = Watch(Outcome.passed("watching"), milestones=(
        Milestone(Measure.DETECTION, 12.0, "PolicyEnforcementDisabled notified"),
        Milestone(Measure.MITIGATION, 40.0, "ConfigMap policy-config enforcement_mode == "
                                            "'disabled' ('disabled')")),
        declaration=Declaration("INC-7", "SEV-2", "2026-01-01T00:00:20+00:00", 20.0, "SEV-2",
                                "open"))
    return machine.measured(s, NAME, watch)


def event(state: GameDayState, kind: LiveKind, **kw: object) -> LiveEvent:
    return dataclasses.replace(LiveEvent(wall=1.0, run_id=state.id, kind=kind, drill=NAME),
                               **kw)


def text(value: object) -> str:
    return json.dumps(value.to_dict() if hasattr(value, "to_dict") else value)  # type: ignore[union-attr]


SECRETS = ("enforcement-disabled-drift", "enforcement_disabled", "SEV-1",
           "PolicyEnforcementDisabled]", "Immediate Mitigation", "policy-config", "they grep")


def test_the_responders_state_names_no_drill_fault_answer_or_note(state: GameDayState) -> None:
    shown = views.for_responders(state)
    dumped = text(shown)
    for secret in SECRETS:
        assert secret not in dumped, secret
    assert shown.current == "Inject 1" and shown.notes == ()
    inject = shown.plan.injects[0]
    assert inject.title == inject.drill.name == "Inject 1" and inject.brief
    assert inject.budgets == state.plan.injects[0].budgets  # the budgets are no secret
    st = shown.injects[0]
    assert st.declaration is not None and st.declaration.severity == "SEV-2"  # their own
    assert [m.detail for m in st.milestones] == ["PolicyEnforcementDisabled notified", ""]


def test_after_the_reveal_the_responders_see_it_all(state: GameDayState) -> None:
    revealed = machine.apply(state, Command(Action.REVEAL, drill=NAME), 50.0)
    shown = views.for_responders(revealed)
    assert shown.plan.injects[0].drill.name == NAME
    assert shown.plan.injects[0].drill.expected_severity.value == "SEV-1"
    assert shown.notes == ()  # notes stay with the facilitator and the report
    ev = event(revealed, LiveKind.EVENT, event=TimelineEvent(3.0, EventKind.INJECTED,
                                                             "fault enforcement_disabled injected"))
    assert views.for_role(ev, Role.RESPONDER, revealed) == ev


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.OBSERVER])
def test_facilitator_and_observers_see_everything(state: GameDayState, role: Role) -> None:
    ev = event(state, LiveKind.GAMEDAY, gameday=state, message=f"{NAME} injected")
    assert views.for_role(ev, role, state) == ev


def test_drill_events_of_an_unrevealed_inject(state: GameDayState) -> None:
    r = Role.RESPONDER
    injected = event(state, LiveKind.EVENT, event=TimelineEvent(
        3.0, EventKind.INJECTED, "fault enforcement_disabled injected"))
    assert views.for_role(injected, r, state) is None
    classified = event(state, LiveKind.EVENT, event=TimelineEvent(3.0, EventKind.CLASSIFIED,
                                                                  "classified SEV-1"))
    assert views.for_role(classified, r, state) is None
    alert = event(state, LiveKind.EVENT, event=TimelineEvent(
        9.0, EventKind.ALERT_FIRING, "PolicyEnforcementDisabled firing"))
    shown = views.for_role(alert, r, state)
    assert shown is not None and shown.drill == "Inject 1" and shown.event == alert.event
    phase = event(state, LiveKind.EVENT, event=TimelineEvent(
        4.0, EventKind.PHASE_COMPLETED, "Inject fault: passed — enforcement_mode=disabled"))
    shown = views.for_role(phase, r, state)
    assert shown is not None and shown.event is not None
    assert shown.event.message == "Inject fault"
    started = event(state, LiveKind.DRILL_STARTED, spec=state.plan.injects[0].drill,
                    started_wall="2026-01-01T00:00:00+00:00")
    shown = views.for_role(started, r, state)
    assert shown is not None and shown.spec is not None and NAME not in text(shown)
    record = PhaseRecord(Phase.INJECT, PhaseStatus.PASSED, 1.0, 4.0, 60.0,
                         reason="enforcement_mode=disabled")
    shown = views.for_role(event(state, LiveKind.PHASE_COMPLETED, record=record), r, state)
    assert shown is not None and shown.record is not None and shown.record.reason == ""
    assert views.for_role(event(state, LiveKind.SERIES), r, state) is None
    msg = views.for_role(event(state, LiveKind.GAMEDAY, gameday=state,
                               message=f"{NAME}: detection reached 7.0 s after the injection"),
                         r, state)
    assert msg is not None and msg.message == "Inject 1: detection reached 7.0 s after the injection"


def test_the_world_and_unattended_drills_hide_nothing(state: GameDayState) -> None:
    seen = LiveEvent(wall=1.0, run_id="", kind=LiveKind.OBSERVED, observed=Observation(
        1.0, Source.KUBERNETES, "configmap", "policy-config", "ConfigMap policy-config ..."))
    assert views.for_role(seen, Role.RESPONDER, state) == seen
    drill = LiveEvent(wall=1.0, run_id="20260101T000000Z-abcd", kind=LiveKind.EVENT, drill=NAME,
                      event=TimelineEvent(3.0, EventKind.INJECTED, "fault injected"))
    assert views.for_role(drill, Role.RESPONDER, state) == drill
    assert views.for_role(drill, Role.RESPONDER, None) == drill
