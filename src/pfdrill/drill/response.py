"""The response: runbook sections, outcome checks (mitigation), recovery, success criteria."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from pfdrill.drill import checks, criteria, injection
from pfdrill.drill.ports import SectionRun
from pfdrill.drill.session import DrillSession, Outcome
from pfdrill.model.drill import CheckSpec
from pfdrill.model.evidence import CheckEvidence, CommandEvidence, SectionEvidence, SteadyState
from pfdrill.model.timeline import EventKind, TimelineEvent

_TEXT_KINDS = ("md", "txt", "json", "log", "ics")


def run_sections(s: DrillSession, sections: Sequence[str], runbook: str | None = None) -> Outcome:
    path = runbook or (s.spec.runbook.path if s.spec.runbook else "")
    if not path:
        return Outcome.failed("no runbook given for this drill")
    failures: list[SectionEvidence] = []
    for section in sections:
        run = s.env.runbook.run_section(path, section, s.runbook_variables())
        ev = _section_evidence(s, run)
        s.sections.append(ev)
        if not ev.ok:
            failures.append(ev)
    if failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more section(s))" if len(failures) > 1 else ""
        return Outcome.failed(f"runbook section {first.section!r}: {first.reason}{more}")
    return Outcome.passed(f"{len(sections)} section(s) ran")


def _section_evidence(s: DrillSession, run: SectionRun) -> SectionEvidence:
    cmds = []
    for c in run.commands:
        ev = CommandEvidence(section=run.section, command=c.command, outcome=c.outcome,
                             exit_code=c.exit_code, at=round(s.offset(c.started), 3),
                             duration_s=round(c.duration_s, 3), output=c.output,
                             reason=c.reason, line=c.line)
        cmds.append(ev)
        first_line = c.command.strip().splitlines()[0] if c.command.strip() else ""
        s.timeline.append(TimelineEvent(
            at=ev.at, kind=EventKind.COMMAND,
            message=f"{run.section}: {first_line[:100]} → {c.outcome.value}"))
    s.timeline.sort(key=lambda e: e.at)
    reason = run.reason
    if not run.ok and not reason:
        bad = next((c for c in cmds if c.outcome.value == "failed"), None)
        reason = (f"`{bad.command.strip().splitlines()[0]}` failed (exit {bad.exit_code})"
                  f"{': ' + bad.reason if bad.reason else ''}") if bad else "section failed"
    return SectionEvidence(section=run.section, ok=run.ok, commands=tuple(cmds),
                           reason=reason)


def wait_checks(s: DrillSession, specs: Sequence[CheckSpec], *, within: float,
                into: list[CheckEvidence] | None = None) -> Outcome:
    since = s.evidence_since()
    res = checks.wait(specs, s.env, since=since, timeout_s=within)
    at = round(res.finished_mono - s.t0, 3)
    evs = [CheckEvidence(description=c.describe(), ok=o.ok, observed=o.observed, at=at,
                         reason="" if o.ok else f"observed {o.observed}")
           for c, o in res.observations]
    (s.mitigation if into is None else into).extend(evs)
    for ev in evs:
        s.note(EventKind.CHECK, f"{ev.description}: {'ok' if ev.ok else ev.reason}")
    if not res.ok:
        bad = [e for e in evs if not e.ok]
        return Outcome.failed("; ".join(f"{e.description} not met within {within:g} s "
                                        f"({e.reason})" for e in bad))
    return Outcome.passed(f"{len(evs)} check(s) hold")


def mitigate(s: DrillSession, specs: Sequence[CheckSpec], *, within: float) -> Outcome:
    if not specs:
        return Outcome.failed("the drill defines no mitigation check; nothing proves it")
    out = wait_checks(s, specs, within=within, into=s.mitigation)
    if out.status.ok and s.injected_at is not None:
        s.time_to_mitigate = s.since_injection()
    return out


def recover(s: DrillSession, sections: Sequence[str], extra: Sequence[CheckSpec], *,
            within: float) -> Outcome:
    injection.rollback_fault(s, "the root cause is fixed")
    ran = run_sections(s, sections) if sections else Outcome.passed()
    timeout = max(0.0, within - (s.elapsed() - s.phase_start))
    probe = s.env.steady_state.check

    def look() -> tuple[tuple[checks.Observation, ...], SteadyState]:
        samples = tuple(probe())
        steady = SteadyState(at=round(s.elapsed(), 3),
                             holds=bool(samples) and all(s.ok for s in samples),
                             samples=samples)
        since = s.evidence_since()
        return tuple(checks.observe(c, s.env, since) for c in extra), steady

    (obs, steady), ok = s.poll(look, lambda v: v[1].holds and all(o.ok for o in v[0]),
                                   timeout)
    s.steady_after = steady
    s.recovery.extend(CheckEvidence(description=c.describe(), ok=o.ok,
                                       observed=o.observed, at=steady.at)
                         for c, o in zip(extra, obs, strict=True))
    s.note(EventKind.STEADY_STATE, "steady state restored" if steady.holds else
              f"steady state not restored: {steady.describe_failures()}")
    if ok and s.injected_at is not None:
        s.mttr = steady.at - s.injected_at
    if not ran.status.ok:
        return ran
    if not steady.holds:
        return Outcome.failed("recovery did not restore steady state: "
                              + steady.describe_failures())
    if not ok:
        bad = [c.describe() for c, o in zip(extra, obs, strict=True) if not o.ok]
        return Outcome.failed("recovery checks not met: " + "; ".join(bad))
    return Outcome.passed(f"steady state restored {s.mttr or 0:.1f} s after injection")


def judge_criteria(s: DrillSession, wanted: Sequence[criteria.Criterion],
                   follow_up: Sequence[str] = ()) -> Outcome:
    ran = run_sections(s, follow_up) if follow_up else Outcome.passed()
    env = s.env
    s.incident = s.read("incident store", lambda: env.incidents.incident(
        s.incident_id))
    arts = s.read("artifacts", lambda: tuple(env.artifacts.artifacts())) or ()
    s.artifacts = arts
    texts = {a.path: env.artifacts.read_text(a) for a in arts if a.kind in _TEXT_KINDS}
    since = s.evidence_since()
    s.notifications = s.read("sink", lambda: tuple(
        n if n.at is not None else dataclasses.replace(
            n, at=round(s.offset(dt.datetime.fromisoformat(n.received_wall)), 3))
        for n in env.notifications.notifications(since))) or ()
    rules_now = s.read("Prometheus rules", env.rules.loaded_rules)
    terms = tuple(s.fault.root_cause_terms()) if s.fault else ()
    ctx = criteria.CriteriaContext(
        spec=s.spec, incident_id=s.incident_id, injected_wall=s.injected_wall,
        phases=tuple(s.phases), sections=tuple(s.sections),
        steady_after=s.steady_after, incident=s.incident, artifacts=arts,
        texts=texts, notifications=s.notifications, rules_before=s.rules_before,
        rules_now=rules_now, root_cause_terms=terms,
        resolve_budget_s=s.spec.sla.resolve, unavailable=dict(s.unavailable))
    s.criteria = criteria.judge(wanted, ctx)
    for c in s.criteria:
        s.note(EventKind.CRITERION, f"{c.title}: {'met' if c.passed else c.reason}")
    unmet = [c for c in s.criteria if not c.passed]
    if not ran.status.ok:
        return ran
    if unmet:
        more = f" (and {len(unmet) - 1} more)" if len(unmet) > 1 else ""
        return Outcome.failed(f"success criterion {unmet[0].title!r} not met: "
                              f"{unmet[0].reason}{more}")
    return Outcome.passed(f"{len(s.criteria)} criteria met")
