"""People respond by hand: measure detection, declaration, mitigation and recovery; assert nothing.

The game-day phase (:mod:`pfdrill.gameday`): where a drill runs the runbook
itself, here the responders run it, and this phase only looks. Every poll it
checks what is still missing —

- detection: a notification of one of the drill's expected alerts at the sink;
- declaration: an incident created in the responders' incident store
  (:class:`IncidentLog`), with the severity they declared;
- mitigation: every mitigation check of the drill holds at once; then, unless
  the plan says otherwise, the fault is rolled back (the root cause is fixed);
- recovery: once mitigated or rolled back, the steady state and the recovery
  checks hold again —

and keeps a partial :class:`~pfdrill.model.phases.Watch` the moment a
milestone is reached, so a game day restarted mid-inject resumes with what
was measured. The facilitator steers through :class:`Steering`: roll the
fault back, or stop (abort, end the inject). The watch ends at recovery,
on a stop, or when ``within`` seconds have passed since the injection.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Protocol

from pfdrill.drill import checks
from pfdrill.drill.context import DrillContext
from pfdrill.drill.ports import Directive, IncidentLog, Steering
from pfdrill.model.detection import Channel
from pfdrill.model.phases import Outcome, Watch
from pfdrill.model.timeline import EventKind
from pfdrill.model.watch import Declaration, Measure, Milestone, WatchPlan

# The incident store keeps creation times to the second: look a second earlier.
_STORE_RESOLUTION_S = 1.0


@dataclasses.dataclass
class _Progress:
    """What this watch has measured so far (seeded from a resumed drill's latest Watch)."""

    milestones: dict[Measure, Milestone]
    declaration: Declaration | None
    rolled_back_at: float | None

    def record(self, outcome: Outcome, ended: str = "") -> Watch:
        ordered = tuple(self.milestones[m] for m in Measure if m in self.milestones)
        return Watch(outcome, milestones=ordered, declaration=self.declaration,
                     rolled_back_at=self.rolled_back_at, ended=ended)


def watch(c: DrillContext, plan: WatchPlan, log: IncidentLog, steering: Steering, *,
          within: float) -> Watch:
    injected_at = c.injected_at
    if injected_at is None:
        return Watch(Outcome.failed("nothing was injected: there is nothing to respond to"))
    rec = c.rec
    earlier = rec.latest(Watch)
    got = _Progress({m.measure: m for m in earlier.milestones} if earlier else {},
                    earlier.declaration if earlier else None,
                    earlier.rolled_back_at if earlier else None)
    since = c.evidence_since()
    last_look: float | None = None
    ended = ""

    def reach(measure: Measure, at: float, detail: str) -> None:
        got.milestones[measure] = Milestone(measure, round(at, 3), detail)
        rec.keep(got.record(Outcome.passed("watching")))  # now: a successor must know it
        rec.note(EventKind.MILESTONE, f"{measure.value}: {detail} "
                 f"({at - injected_at:.1f} s after injection)")

    def roll_back(why: str) -> None:
        if got.rolled_back_at is None:  # kept first: the rollback's own event reports it
            got.rolled_back_at = round(rec.elapsed(), 3)
            rec.keep(got.record(Outcome.passed("watching")))
            c.rollback_fault(why)

    while True:
        if Measure.RECOVERY in got.milestones:  # resumed after the recovery was measured
            ended = "recovered"
            break
        steer = steering.steer()
        if steer.directive is Directive.STOP:
            ended = steer.reason or "stopped by the facilitator"
            break
        if steer.directive is Directive.ROLL_BACK:
            roll_back(steer.reason or "rolled back by the facilitator")
        if Measure.DETECTION not in got.milestones:
            _detection(c, plan, since, reach)
        _declaration(c, log, since, last_look, got, reach)
        if Measure.MITIGATION not in got.milestones and plan.mitigation:
            held = [(spec, checks.observe(spec, c.env, since)) for spec in plan.mitigation]
            if all(o.ok for _, o in held):
                reach(Measure.MITIGATION, rec.elapsed(), "; ".join(
                    f"{spec.describe()} ({o.observed})" for spec, o in held))
        if Measure.MITIGATION in got.milestones and plan.rollback_when_mitigated:
            roll_back("mitigation holds: the root cause is fixed")
        if got.rolled_back_at is not None or Measure.MITIGATION in got.milestones:
            samples = tuple(c.env.steady_state.check())
            held = [(spec, checks.observe(spec, c.env, since)) for spec in plan.recovery]
            if samples and all(s.ok for s in samples) and all(o.ok for _, o in held):
                reach(Measure.RECOVERY, rec.elapsed(), "steady state holds"
                      + "".join(f"; {spec.describe()}" for spec, _ in held))
                continue
        now = rec.elapsed()
        if now - injected_at >= within:
            ended = f"time is up ({within:g} s after the injection)"
            break
        last_look = now
        rec.clock.sleep(c.env.poll_interval_s)
    recovery = got.milestones.get(Measure.RECOVERY)
    if recovery is not None:
        outcome = Outcome.passed(f"recovered {recovery.at - injected_at:.1f} s after injection",
                                 measured=recovery.at - injected_at)
    else:
        missing = ", ".join(m.value for m in Measure if m not in got.milestones)
        outcome = Outcome.failed(f"{ended}; not reached: {missing}",
                                 measured=rec.elapsed() - injected_at)
    return got.record(outcome, ended)


def _detection(c: DrillContext, plan: WatchPlan, since: dt.datetime,
               reach: _Reach) -> None:
    seen = c.read("sink", lambda: c.env.notifications.notifications(since))
    hits = sorted((dt.datetime.fromisoformat(n.received_wall), a) for n in seen or ()
                  if n.channel is Channel.ALERTMANAGER for a in n.alerts if a in plan.alerts)
    if hits:
        when, alert = hits[0]
        reach(Measure.DETECTION, c.rec.offset(when), f"{alert} notified")


def _declaration(c: DrillContext, log: IncidentLog, since: dt.datetime,
                 last_look: float | None, got: _Progress, reach: _Reach) -> None:
    rec = c.rec
    found = c.read("incident store", lambda: log.declared(
        since - dt.timedelta(seconds=_STORE_RESOLUTION_S)))
    if not found:
        return
    if got.declaration is None:
        first = found[0]
        created = rec.offset(dt.datetime.fromisoformat(first.created_wall))
        # created_wall is cut to the second; the previous look had not seen it yet
        at = max(created, last_look if last_look is not None else created)
        got.declaration = Declaration(incident_id=first.incident_id, severity=first.severity,
                                      created_wall=first.created_wall, at=round(at, 3),
                                      severity_now=first.severity, status=first.status)
        reach(Measure.DECLARATION, at, f"incident {first.incident_id} declared "
              f"{first.severity}")
        return
    now = next((i for i in found if i.incident_id == got.declaration.incident_id), None)
    if now is not None and (now.severity, now.status) != (got.declaration.severity_now,
                                                          got.declaration.status):
        got.declaration = dataclasses.replace(got.declaration, severity_now=now.severity,
                                              status=now.status)
        rec.keep(got.record(Outcome.passed("watching")))
        rec.note(EventKind.NOTE, f"incident {now.incident_id}: severity {now.severity}, "
                 f"status {now.status}")


class _Reach(Protocol):
    def __call__(self, measure: Measure, at: float, detail: str) -> None: ...
