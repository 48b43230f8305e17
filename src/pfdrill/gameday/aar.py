"""The after-action report of a game day, built from what was recorded. Pure.

For every inject that was played: each measure's game time against its budget
(extensions included; a measure never reached is over budget once the inject
ran past it), the severity the responders declared against the expected one,
and one timeline in order — the drill's own events, alerts, notifications,
Kubernetes changes and events, the responders' commands and incident-store
updates, hints, pauses and observers' notes. Then the notes and the action
items with their current state. :mod:`pfdrill.report.aar` renders it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pfdrill.model.gameday import (
    ActionItem,
    AfterActionReport,
    GameDayState,
    InjectPlan,
    InjectReport,
    InjectState,
    InjectStatus,
    MeasureResult,
    TimelineEntry,
)
from pfdrill.model.live import Observation
from pfdrill.model.result import DrillResult
from pfdrill.model.timeline import EventKind
from pfdrill.model.watch import Measure

# The drill's events an after-action report shows (the rest is the drill report's business).
_DRILL_EVENTS = frozenset({EventKind.SAFETY, EventKind.STEADY_STATE, EventKind.SNAPSHOT,
                           EventKind.INJECTED, EventKind.PROVEN, EventKind.ALERT_FIRING,
                           EventKind.NOTIFICATION, EventKind.ROLLBACK, EventKind.RESTORED,
                           EventKind.INTERRUPTED, EventKind.ERROR, EventKind.MILESTONE,
                           EventKind.NOTE})
_SOURCES = {"prometheus": "alert", "sink": "notification", "kubernetes": "kubernetes",
            "responder": "responder", "incidents": "incident"}
AFTER_S = 5.0  # what happens this soon after an inject ended (its restore) still belongs to it


def measures(plan: InjectPlan, st: InjectState) -> tuple[MeasureResult, ...]:
    end = st.ended_wall
    ran = st.game_time(end) if end is not None else None
    out = []
    for m in Measure:
        budget = st.budget(plan, m)
        got = st.reached(m)
        wall = st.milestone_wall(got) if got is not None else None
        elapsed = st.game_time(wall) if wall is not None else None
        if elapsed is not None:
            over = elapsed > budget
            detail = got.detail if got else ""
        else:
            over = ran is not None and ran > budget
            detail = "not reached" + (f" in {ran:.1f} s" if ran is not None else "")
        out.append(MeasureResult(measure=m, budget_s=budget, extended_s=st.extended(m),
                                 elapsed_s=None if elapsed is None else round(elapsed, 3),
                                 over_budget=over, detail=detail))
    return tuple(out)


def timeline(state: GameDayState, st: InjectState, result: DrillResult | None,
             observations: Sequence[Observation]) -> tuple[TimelineEntry, ...]:
    start = st.started_wall or 0.0
    end = (st.ended_wall or start) + AFTER_S
    inj = st.injected_wall

    def since(wall: float) -> float | None:
        return None if inj is None else round(wall - inj, 3)

    out: list[TimelineEntry] = []
    if result is not None:
        t0 = dt.datetime.fromisoformat(result.header.started_at).timestamp()
        for e in result.timeline:
            if e.kind in _DRILL_EVENTS:
                out.append(TimelineEntry(t0 + e.at, "drill", e.message, since(t0 + e.at),
                                         e.kind.value))
    for o in observations:
        if start <= o.wall <= end:
            out.append(TimelineEntry(o.wall, _SOURCES.get(o.source.value, o.source.value),
                                     o.message, since(o.wall), o.kind))
    for h in st.hints:
        out.append(TimelineEntry(h.wall, "facilitator", f"hint: {h.text}", since(h.wall), "hint"))
    for p in st.pauses:
        out.append(TimelineEntry(p.start, "facilitator", "paused", since(p.start), "pause"))
        if p.end is not None:
            out.append(TimelineEntry(p.end, "facilitator", "resumed", since(p.end), "resume"))
    for x in st.extensions:
        out.append(TimelineEntry(x.wall, "facilitator", f"{x.measure.value} budget +"
                                 f"{x.seconds:g} s", since(x.wall), "extend"))
    for n in state.notes:
        if n.inject == st.name or (not n.inject and start <= n.wall <= end):
            out.append(TimelineEntry(n.wall, "observer", f"{n.author}: {n.text}", since(n.wall),
                                     "note"))
    return tuple(sorted(out, key=lambda e: e.wall))


def build(state: GameDayState, results: Mapping[str, DrillResult],
          observations: Sequence[Observation], actions: Sequence[ActionItem], *,
          generated: float) -> AfterActionReport:
    injects = []
    header = next(iter(results.values())).header if results else None
    for plan in state.plan.injects:
        st = state.inject(plan.name)
        if st is None or st.status is InjectStatus.PENDING:
            continue
        spec = plan.drill
        decl = st.declaration
        result = results.get(plan.name)
        rb = spec.runbook
        injects.append(InjectReport(
            title=plan.title, drill=plan.name, status=st.status, description=spec.description,
            fault=spec.fault.describe(), ended=st.ended,
            expected_severity=spec.expected_severity.value,
            declared_severity=decl.severity if decl else None,
            severity_now=decl.severity_now if decl else None,
            incident_id=decl.incident_id if decl else "",
            measures=measures(plan, st), hints=st.hints,
            paused_s=round(st.paused_s(st.ended_wall or generated), 3),
            timeline=timeline(state, st, result, observations), restored=st.restored,
            restore_detail=st.restore_detail,
            runbook_sections=(*rb.respond, *rb.recover) if rb else (),
            started_wall=st.started_wall))
    return AfterActionReport(
        id=state.id, title=state.plan.title, file=state.plan.file,
        started_wall=state.started_wall, ended_wall=state.ended_wall,
        facilitator=state.plan.facilitator, description=state.plan.description,
        cluster=header.cluster if header else "", context=header.context if header else "",
        pfdrill_version=header.pfdrill_version if header else "", injects=tuple(injects),
        notes=state.notes, actions=tuple(actions), generated_wall=generated)
