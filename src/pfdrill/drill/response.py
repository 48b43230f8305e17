"""The response: runbook sections, outcome checks (mitigation), recovery, success criteria."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from pfdrill.drill import checks, criteria
from pfdrill.drill.context import DrillContext
from pfdrill.drill.ports import SectionRun
from pfdrill.model.drill import CheckSpec
from pfdrill.model.evidence import CheckEvidence, CommandEvidence, SectionEvidence, SteadyState
from pfdrill.model.phases import (
    Judgement,
    Mitigation,
    Outcome,
    Preflight,
    Recovery,
    Response,
)
from pfdrill.model.timeline import EventKind

_TEXT_KINDS = ("md", "txt", "json", "log", "ics")


def _run_sections(c: DrillContext, sections: Sequence[str]
                  ) -> tuple[Outcome, tuple[SectionEvidence, ...]]:
    path = c.spec.runbook.path if c.spec.runbook else ""
    if not path:
        return Outcome.failed("no runbook given for this drill"), ()
    ran: list[SectionEvidence] = []
    for section in sections:
        run = c.env.runbook.run_section(path, section, c.runbook_variables(also=ran))
        ran.append(_section_evidence(c, run))
    failures = [ev for ev in ran if not ev.ok]
    if failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more section(s))" if len(failures) > 1 else ""
        return (Outcome.failed(f"runbook section {first.section!r}: {first.reason}{more}"),
                tuple(ran))
    return Outcome.passed(f"{len(sections)} section(s) ran"), tuple(ran)


def respond(c: DrillContext, sections: Sequence[str]) -> Response:
    if not sections:
        return Response(Outcome.failed("the drill names no runbook section to respond with"))
    outcome, ran = _run_sections(c, sections)
    return Response(outcome, sections=ran)


def recovery_sections(c: DrillContext, sections: Sequence[str]) -> Recovery:
    """Runbook sections run while recovering, on their own (one Gherkin step each)."""
    outcome, ran = _run_sections(c, sections)
    return Recovery(outcome, sections=ran)


def _section_evidence(c: DrillContext, run: SectionRun) -> SectionEvidence:
    cmds = []
    for cmd in run.commands:
        ev = CommandEvidence(section=run.section, command=cmd.command, outcome=cmd.outcome,
                             exit_code=cmd.exit_code, at=round(c.rec.offset(cmd.started), 3),
                             duration_s=round(cmd.duration_s, 3), output=cmd.output,
                             reason=cmd.reason, line=cmd.line)
        cmds.append(ev)
        first_line = cmd.command.strip().splitlines()[0] if cmd.command.strip() else ""
        c.rec.event(ev.at, EventKind.COMMAND,
                    f"{run.section}: {first_line[:100]} → {cmd.outcome.value}")
    reason = run.reason
    if not run.ok and not reason:
        bad = next((x for x in cmds if x.outcome.value == "failed"), None)
        reason = (f"`{bad.command.strip().splitlines()[0]}` failed (exit {bad.exit_code})"
                  f"{': ' + bad.reason if bad.reason else ''}") if bad else "section failed"
    return SectionEvidence(section=run.section, ok=run.ok, commands=tuple(cmds),
                           reason=reason)


def _wait_checks(c: DrillContext, specs: Sequence[CheckSpec], *, within: float
                 ) -> tuple[Outcome, tuple[CheckEvidence, ...]]:
    res = checks.wait(specs, c.env, since=c.evidence_since(), timeout_s=within)
    at = round(res.finished_mono - c.rec.t0, 3)
    evs = tuple(CheckEvidence(description=spec.describe(), ok=o.ok, observed=o.observed, at=at,
                              reason="" if o.ok else f"observed {o.observed}")
                for spec, o in res.observations)
    for ev in evs:
        c.rec.note(EventKind.CHECK, f"{ev.description}: {'ok' if ev.ok else ev.reason}")
    if not res.ok:
        bad = [e for e in evs if not e.ok]
        return Outcome.failed("; ".join(f"{e.description} not met within {within:g} s "
                                        f"({e.reason})" for e in bad)), evs
    return Outcome.passed(f"{len(evs)} check(s) hold"), evs


def mitigate(c: DrillContext, specs: Sequence[CheckSpec], *, within: float) -> Mitigation:
    if not specs:
        return Mitigation(Outcome.failed("the drill defines no mitigation check; nothing "
                                         "proves it"))
    outcome, evs = _wait_checks(c, specs, within=within)
    when = c.since_injection() if outcome.status.ok else None
    return Mitigation(outcome, checks=evs, time_to_mitigate=when)


def hold_checks(c: DrillContext, specs: Sequence[CheckSpec], *, within: float) -> Recovery:
    """Checks that must hold while recovering (a Gherkin ``Then`` after the rollback)."""
    outcome, evs = _wait_checks(c, specs, within=within)
    return Recovery(outcome, checks=evs)


def recover(c: DrillContext, sections: Sequence[str], extra: Sequence[CheckSpec], *,
            within: float) -> Recovery:
    rec = c.rec
    start = rec.elapsed()
    c.rollback_fault("the root cause is fixed")
    ran, ran_sections = _run_sections(c, sections) if sections else (Outcome.passed(), ())
    timeout = max(0.0, within - (rec.elapsed() - start))
    probe = c.env.steady_state.check
    since = c.evidence_since()

    def look() -> tuple[tuple[checks.Observation, ...], SteadyState]:
        samples = tuple(probe())
        steady = SteadyState(at=round(rec.elapsed(), 3),
                             holds=bool(samples) and all(x.ok for x in samples),
                             samples=samples)
        return tuple(checks.observe(spec, c.env, since) for spec in extra), steady

    (obs, steady), ok = c.poll(look, lambda v: v[1].holds and all(o.ok for o in v[0]),
                               timeout)
    evs = tuple(CheckEvidence(description=spec.describe(), ok=o.ok, observed=o.observed,
                              at=steady.at) for spec, o in zip(extra, obs, strict=True))
    rec.note(EventKind.STEADY_STATE, "steady state restored" if steady.holds else
             f"steady state not restored: {steady.describe_failures()}")
    injected_at = c.injected_at
    mttr = steady.at - injected_at if ok and injected_at is not None else None
    if not ran.status.ok:
        outcome = ran
    elif not steady.holds:
        outcome = Outcome.failed("recovery did not restore steady state: "
                                 + steady.describe_failures())
    elif not ok:
        bad = [spec.describe() for spec, o in zip(extra, obs, strict=True) if not o.ok]
        outcome = Outcome.failed("recovery checks not met: " + "; ".join(bad))
    else:
        outcome = Outcome.passed(f"steady state restored {mttr or 0:.1f} s after injection")
    return Recovery(outcome, sections=ran_sections, checks=evs, steady=steady, mttr=mttr)


def judge_criteria(c: DrillContext, wanted: Sequence[criteria.Criterion],
                   follow_up: Sequence[str] = ()) -> Judgement:
    if not wanted:
        return Judgement(Outcome.passed("no success criteria requested"))
    ran, ran_sections = _run_sections(c, follow_up) if follow_up else (Outcome.passed(), ())
    env, rec = c.env, c.rec
    incident = c.read("incident store", lambda: env.incidents.incident(c.incident_id))
    arts = c.read("artifacts", lambda: tuple(env.artifacts.artifacts())) or ()
    texts = {a.path: env.artifacts.read_text(a) for a in arts if a.kind in _TEXT_KINDS}
    since = c.evidence_since()
    notifications = c.read("sink", lambda: tuple(
        n if n.at is not None else dataclasses.replace(
            n, at=round(rec.offset(dt.datetime.fromisoformat(n.received_wall)), 3))
        for n in env.notifications.notifications(since))) or ()
    rules_now = c.read("Prometheus rules", env.rules.loaded_rules)
    fault = c.hold.fault
    terms = tuple(fault.root_cause_terms()) if fault else ()
    injected_at = c.injected_at
    pre = rec.latest(Preflight)
    recovered = [r.steady for r in rec.all(Recovery) if r.steady is not None]
    ctx = criteria.CriteriaContext(
        spec=c.spec, incident_id=c.incident_id,
        injected_wall=None if injected_at is None else rec.wall(injected_at),
        phases=rec.phases, sections=(*c.sections, *ran_sections),
        steady_after=recovered[-1] if recovered else None, incident=incident, artifacts=arts,
        texts=texts, notifications=notifications,
        rules_before=None if pre is None or pre.rules_before is None
        else frozenset(pre.rules_before),
        rules_now=rules_now, root_cause_terms=terms,
        resolve_budget_s=c.spec.sla.resolve, unavailable=rec.sources_unavailable)
    results = criteria.judge(wanted, ctx)
    for r in results:
        rec.note(EventKind.CRITERION, f"{r.title}: {'met' if r.passed else r.reason}")
    unmet = [r for r in results if not r.passed]
    if not ran.status.ok:
        outcome = ran
    elif unmet:
        more = f" (and {len(unmet) - 1} more)" if len(unmet) > 1 else ""
        outcome = Outcome.failed(f"success criterion {unmet[0].title!r} not met: "
                                 f"{unmet[0].reason}{more}")
    else:
        outcome = Outcome.passed(f"{len(results)} criteria met")
    return Judgement(outcome, sections=ran_sections, criteria=results, incident=incident,
                     artifacts=arts, notifications=notifications)
