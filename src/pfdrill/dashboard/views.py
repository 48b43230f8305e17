"""What each role may see of a live event: the responders do not see the answers.

Pure. For an unattended drill everybody sees everything. In a game day the
facilitator and observers see everything; responders see the world (alerts,
notifications, the cluster, their own commands), the clock and their
measures against the budgets — but until the facilitator reveals an inject,
not which drill it is, its fault, the expected severity and alerts, the
runbook sections or the checks that judge mitigation, nor the timeline
events and metric curves that would give those away. Observers' notes are
for the facilitator and the report, not the room.
"""

from __future__ import annotations

import dataclasses

from pfdrill.model.drill import DrillSpec, FaultSpec
from pfdrill.model.gameday import GameDayState, InjectPlan, InjectState, Role
from pfdrill.model.live import LiveEvent, LiveKind
from pfdrill.model.severity import Severity
from pfdrill.model.timeline import EventKind
from pfdrill.model.watch import Measure, Milestone

HIDDEN = "hidden until the facilitator reveals it"

# Timeline events a responder sees of an unrevealed inject: the rest names the fault,
# the checks or the classification.
_RESPONDER_EVENTS = frozenset({EventKind.PHASE_STARTED, EventKind.PHASE_COMPLETED,
                               EventKind.SAFETY, EventKind.ALERT_FIRING,
                               EventKind.NOTIFICATION, EventKind.RESTORED,
                               EventKind.INTERRUPTED, EventKind.ERROR})
# Milestones whose detail is the responders' own doing (or on their screens anyway).
_OPEN_DETAIL = frozenset({Measure.DETECTION, Measure.DECLARATION})


def masked_spec(spec: DrillSpec, title: str) -> DrillSpec:
    """A drill spec that says nothing about the drill: its title, its budgets."""
    return DrillSpec(name=title, fault=FaultSpec("hidden"), expected_severity=Severity.NONE,
                     profile=spec.profile, sla=spec.sla, description=HIDDEN)


def _masked_plan(plan: InjectPlan) -> InjectPlan:
    return dataclasses.replace(plan, drill=masked_spec(plan.drill, plan.title), hints=())


def _masked_inject(st: InjectState, title: str) -> InjectState:
    return dataclasses.replace(st, name=title, incident_id="", milestones=tuple(
        m if m.measure in _OPEN_DETAIL else Milestone(m.measure, m.at)
        for m in st.milestones))


def for_responders(state: GameDayState) -> GameDayState:
    """The game day as the room sees it: unrevealed injects by title only, no notes."""
    titles = {i.name: i.title for i in state.plan.injects}
    revealed = {i.name for i in state.injects if i.revealed}
    plan = dataclasses.replace(state.plan, injects=tuple(
        p if p.name in revealed else _masked_plan(p) for p in state.plan.injects))
    injects = tuple(i if i.name in revealed else _masked_inject(i, titles.get(i.name, i.name))
                    for i in state.injects)
    current = state.current
    if current is not None and current not in revealed:
        current = titles.get(current, current)
    return dataclasses.replace(state, plan=plan, injects=injects, current=current, notes=())


def for_role(event: LiveEvent, role: Role, gameday: GameDayState | None) -> LiveEvent | None:
    """``event`` as ``role`` may see it, or None when it is not for them at all."""
    if role is not Role.RESPONDER:
        return event
    if event.kind is LiveKind.GAMEDAY:
        return dataclasses.replace(event, gameday=for_responders(event.gameday),
                                   message=_message(event)) \
            if event.gameday is not None else event
    if gameday is None or event.run_id != gameday.id or not event.drill:
        return event  # not a game day's inject: an unattended drill hides nothing
    plan = gameday.plan.inject(event.drill)
    st = gameday.inject(event.drill)
    if plan is None or (st is not None and st.revealed):
        return event
    title = plan.title
    if event.kind is LiveKind.DRILL_STARTED:
        return dataclasses.replace(event, drill=title, spec=None if event.spec is None
                                   else masked_spec(event.spec, title))
    if event.kind is LiveKind.EVENT:
        if event.event is None or event.event.kind not in _RESPONDER_EVENTS:
            return None
        if event.event.kind in (EventKind.PHASE_STARTED, EventKind.PHASE_COMPLETED,
                                EventKind.RESTORED, EventKind.ERROR, EventKind.INTERRUPTED):
            head = event.event.message.split(":", 1)[0].split(" (", 1)[0]
            return dataclasses.replace(event, drill=title, event=dataclasses.replace(
                event.event, message=head))
        return dataclasses.replace(event, drill=title)
    if event.kind is LiveKind.PHASE_COMPLETED and event.record is not None:
        return dataclasses.replace(event, drill=title,
                                   record=dataclasses.replace(event.record, reason=""))
    if event.kind is LiveKind.RESTORED and event.restore is not None:
        return dataclasses.replace(event, drill=title, restore=dataclasses.replace(
            event.restore, actions=(), remaining=(), reason=""))
    if event.kind is LiveKind.DRILL_FINISHED:
        return dataclasses.replace(event, drill=title, headline=f"{title}: {event.verdict}")
    if event.kind is LiveKind.SERIES:
        return None  # the curves' names and queries point at the fault
    return dataclasses.replace(event, drill=title)


def _message(event: LiveEvent) -> str:
    """A game-day message names drills; responders get titles instead."""
    state = event.gameday
    if state is None:
        return event.message
    text = event.message
    for plan in state.plan.injects:
        st = state.inject(plan.name)
        if st is not None and not st.revealed:
            text = text.replace(plan.name, plan.title)
    return text
