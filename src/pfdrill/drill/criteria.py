"""The runbook's success checklist, each item judged from evidence.

The seed runbook ends with ten checkboxes. Each is a :class:`Criterion` with a
judge that looks only at collected evidence (:class:`CriteriaContext`): the
incident store, files the runbook produced, the notification sink, the
alerting rules Prometheus has loaded, and the drill's own phases. A criterion
with no evidence fails and says which evidence is missing; none is ever
"passed" by default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from collections.abc import Callable, Sequence

from pfdrill.model.detection import Channel
from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import (
    Artifact,
    CommandOutcome,
    CriterionResult,
    IncidentRecord,
    Notification,
    SectionEvidence,
    SteadyState,
)
from pfdrill.model.timeline import Phase, PhaseRecord


class Criterion(enum.Enum):
    RESOLVED_WITHIN_SLA = "resolved_within_sla"
    ROOT_CAUSE = "root_cause_documented"
    MITIGATION = "mitigation_implemented"
    RECOVERY = "recovery_completed"
    POSTMORTEM = "postmortem_scheduled"
    PROCESS_IMPROVEMENTS = "process_improvements"
    MONITORING = "monitoring_updated"
    COMMUNICATION = "team_communication"
    LESSONS = "lessons_learned"
    FOLLOW_UPS = "follow_ups_tracked"

    @property
    def title(self) -> str:
        return _TITLES[self]


# The runbook's own wording, so the report's table reads like the checklist.
_TITLES = {
    Criterion.RESOLVED_WITHIN_SLA: "Incident resolved within SLA",
    Criterion.ROOT_CAUSE: "Root cause identified and documented",
    Criterion.MITIGATION: "Immediate mitigation implemented",
    Criterion.RECOVERY: "Recovery procedures completed",
    Criterion.POSTMORTEM: "Post-mortem scheduled and conducted",
    Criterion.PROCESS_IMPROVEMENTS: "Process improvements implemented",
    Criterion.MONITORING: "Monitoring and alerting updated",
    Criterion.COMMUNICATION: "Team communication completed",
    Criterion.LESSONS: "Lessons learned documented",
    Criterion.FOLLOW_UPS: "Follow-up actions assigned and tracked",
}

ALL: tuple[Criterion, ...] = tuple(Criterion)


@dataclasses.dataclass(frozen=True)
class CriteriaContext:
    """Evidence collected for judging; ``None`` means the source could not be read."""

    spec: DrillSpec
    incident_id: str
    injected_wall: dt.datetime | None
    phases: tuple[PhaseRecord, ...]
    sections: tuple[SectionEvidence, ...]
    steady_after: SteadyState | None
    incident: IncidentRecord | None
    artifacts: tuple[Artifact, ...]
    texts: dict[str, str]  # artifact path -> text, for the text artifacts
    notifications: tuple[Notification, ...]
    rules_before: frozenset[str] | None
    rules_now: frozenset[str] | None
    root_cause_terms: tuple[str, ...]
    resolve_budget_s: float
    unavailable: dict[str, str] = dataclasses.field(default_factory=dict)  # source -> why

    def phase(self, phase: Phase) -> PhaseRecord | None:
        return next((p for p in self.phases if p.phase is phase), None)

    def missing(self, source: str) -> str:
        why = self.unavailable.get(source)
        return f"{source} unavailable: {why}" if why else f"no {source}"


Verdict = tuple[bool, str, tuple[str, ...]]  # passed, reason, evidence lines


def _parse_wall(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


_PLACEHOLDER = re.compile(r"^\s*(\$\{?[A-Z_]+\}?|n/?a|none|tbd|todo|-)?\s*$", re.IGNORECASE)


def _meaningful(text: str) -> bool:
    return not _PLACEHOLDER.match(text)


def markdown_section(text: str, heading: str) -> str | None:
    """The body under the first heading named ``heading`` (any level), or None."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(#+)\s+(.*?)\s*#*\s*$", line)
        if m and m.group(2).strip().lower() == heading.lower():
            body = []
            for nxt in lines[i + 1:]:
                h = re.match(r"^(#+)\s", nxt)
                if h and len(h.group(1)) <= len(m.group(1)):
                    break
                body.append(nxt)
            return "\n".join(body).strip()
    return None


def _incident_report(ctx: CriteriaContext) -> tuple[Artifact, str] | None:
    for art in ctx.artifacts:
        text = ctx.texts.get(art.path)
        if text is not None and markdown_section(text, "Root Cause") is not None:
            return art, text
    return None


def _no_incident(ctx: CriteriaContext) -> Verdict:
    if "incident store" in ctx.unavailable:
        return False, ctx.missing("incident store"), ()
    return False, f"incident {ctx.incident_id} is not in the incident store", ()


# --- judges -------------------------------------------------------------------------
def _resolved(ctx: CriteriaContext) -> Verdict:
    inc = ctx.incident
    if inc is None:
        return _no_incident(ctx)
    if inc.status.lower() != "resolved":
        return False, f"incident {inc.incident_id} status is {inc.status!r}, not resolved", ()
    resolved = _parse_wall(inc.resolved_wall)
    if resolved is None or ctx.injected_wall is None:
        return False, "incident store has no resolution time", ()
    took = (resolved - ctx.injected_wall).total_seconds()
    ev = (f"incident {inc.incident_id} resolved at {inc.resolved_wall}",
          f"{took:.1f} s after injection; SLA {ctx.resolve_budget_s:g} s")
    if took > ctx.resolve_budget_s:
        return False, f"resolved after {took:.1f} s, SLA is {ctx.resolve_budget_s:g} s", ev
    return True, f"resolved {took:.1f} s after injection (SLA {ctx.resolve_budget_s:g} s)", ev


def _root_cause(ctx: CriteriaContext) -> Verdict:
    statements: list[tuple[str, str]] = []
    if ctx.incident is not None and _meaningful(ctx.incident.root_cause):
        statements.append(("incident store", ctx.incident.root_cause))
    report = _incident_report(ctx)
    if report is not None:
        body = markdown_section(report[1], "Root Cause") or ""
        if _meaningful(body):
            statements.append((report[0].name, body))
    if not statements:
        return False, "no root cause recorded in the incident store or an incident report", ()
    terms = [t.lower() for t in ctx.root_cause_terms]
    for where, text in statements:
        if any(t in text.lower() for t in terms):
            return True, f"root cause in {where} names the injected fault", (
                f"{where}: {text.strip()[:200]}",)
    return False, (f"recorded root cause does not match the injected fault "
                   f"{ctx.spec.fault.name} (expected one of: {', '.join(ctx.root_cause_terms)})"), \
        tuple(f"{w}: {t.strip()[:200]}" for w, t in statements)


def _phase_passed(phase: Phase, what: str) -> Callable[[CriteriaContext], Verdict]:
    def judge(ctx: CriteriaContext) -> Verdict:
        rec = ctx.phase(phase)
        if rec is None:
            return False, f"{what} was not verified (phase {phase.value} did not run)", ()
        ev = (f"phase {phase.value}: {rec.status.value} in {rec.duration_s:.1f} s"
              f" (budget {rec.budget_s:g} s)",)
        if not rec.status.ok:
            return False, f"{what} not verified: {rec.reason or rec.status.value}", ev
        if phase is Phase.RECOVER and (ctx.steady_after is None or not ctx.steady_after.holds):
            return False, "steady state was not observed after recovery", ev
        return True, f"{what} verified by phase {phase.value}", ev
    return judge


def _postmortem(ctx: CriteriaContext) -> Verdict:
    inc = ctx.incident
    if inc is None:
        return _no_incident(ctx)
    if not inc.postmortem_wall:
        return False, f"no post-mortem scheduled for {inc.incident_id}", ()
    pdfs = [a for a in ctx.artifacts if a.kind == "pdf" and a.size > 0]
    if not pdfs:
        return False, "post-mortem scheduled but no post-mortem PDF was produced", (
            f"scheduled for {inc.postmortem_wall}",)
    return True, "post-mortem scheduled and its materials produced", (
        f"scheduled for {inc.postmortem_wall}",
        *(f"{a.name} sha256 {a.sha256[:16]}… ({a.size} bytes)" for a in pdfs))


_IMPROVEMENT = re.compile(r"\bgit\s+commit\b|pfctl\s+(policy|config)\s+(update|deploy)|"
                          r"pfctl\s+monitoring\s+update")


def _improvements(ctx: CriteriaContext) -> Verdict:
    done = [c for s in ctx.sections for c in s.commands
            if _IMPROVEMENT.search(c.command) and c.outcome is CommandOutcome.OK]
    if not done:
        return False, "no process-improvement change (runbook commit, policy or monitoring " \
                      "update) ran successfully", ()
    return True, f"{len(done)} improvement change(s) applied", tuple(
        f"{c.section}: {c.command.strip().splitlines()[0][:120]}" for c in done)


def _monitoring(ctx: CriteriaContext) -> Verdict:
    if ctx.rules_now is None or ctx.rules_before is None:
        return False, ctx.missing("Prometheus rules"), ()
    new = sorted(ctx.rules_now - ctx.rules_before)
    if not new:
        return False, "no new alerting rule is loaded in Prometheus since the drill started", ()
    return True, f"new rule(s) loaded in Prometheus: {', '.join(new)}", tuple(
        f"rule {n} loaded" for n in new)


def _communication(ctx: CriteriaContext) -> Verdict:
    if "sink" in ctx.unavailable:
        return False, ctx.missing("sink"), ()
    seen = {n.channel for n in ctx.notifications}
    need = (Channel.STAKEHOLDER, Channel.TEAM)
    lacking = [c.value for c in need if c not in seen]
    ev = tuple(f"{n.channel.value} at {n.received_wall}: {n.text[:100]}"
               for n in ctx.notifications if n.channel in need)
    if lacking:
        return False, f"the sink holds no {' or '.join(lacking)} notification", ev
    return True, "stakeholder and team notifications received by the sink", ev


def _lessons(ctx: CriteriaContext) -> Verdict:
    if ctx.incident is not None and any(_meaningful(x) for x in ctx.incident.lessons):
        return True, "lessons recorded in the incident store", ctx.incident.lessons
    report = _incident_report(ctx)
    if report is None:
        return False, "no incident report with lessons learned was produced", ()
    body = markdown_section(report[1], "Lessons Learned")
    if body is None or not _meaningful(body):
        return False, f"{report[0].name} has no lessons learned", ()
    return True, f"lessons learned documented in {report[0].name}", (body[:200],)


def _follow_ups(ctx: CriteriaContext) -> Verdict:
    if ctx.incident is not None and any(_meaningful(x) for x in ctx.incident.follow_ups):
        return True, "follow-up actions tracked in the incident store", ctx.incident.follow_ups
    report = _incident_report(ctx)
    body = markdown_section(report[1], "Follow-up Actions") if report else None
    meetings = [a for a in ctx.artifacts if a.kind == "ics"]
    if body and _meaningful(body) and meetings:
        return True, "follow-up actions documented and a follow-up meeting scheduled", (
            body[:200], *(a.name for a in meetings))
    if body and _meaningful(body):
        return False, "follow-up actions written down but not tracked (no incident-store " \
                      "entry, no follow-up meeting)", (body[:200],)
    return False, "no follow-up actions recorded", ()


JUDGES: dict[Criterion, Callable[[CriteriaContext], Verdict]] = {
    Criterion.RESOLVED_WITHIN_SLA: _resolved,
    Criterion.ROOT_CAUSE: _root_cause,
    Criterion.MITIGATION: _phase_passed(Phase.MITIGATE, "immediate mitigation"),
    Criterion.RECOVERY: _phase_passed(Phase.RECOVER, "recovery"),
    Criterion.POSTMORTEM: _postmortem,
    Criterion.PROCESS_IMPROVEMENTS: _improvements,
    Criterion.MONITORING: _monitoring,
    Criterion.COMMUNICATION: _communication,
    Criterion.LESSONS: _lessons,
    Criterion.FOLLOW_UPS: _follow_ups,
}


def judge(criteria: Sequence[Criterion], ctx: CriteriaContext) -> tuple[CriterionResult, ...]:
    out = []
    for crit in criteria:
        try:
            passed, reason, evidence = JUDGES[crit](ctx)
        except Exception as exc:  # a judge bug must fail the criterion, not pass it
            passed, reason, evidence = False, f"could not be judged: {exc}", ()
        out.append(CriterionResult(criterion=crit.value, title=crit.title, passed=passed,
                                   reason=reason, evidence=tuple(evidence)))
    return tuple(out)


def parse(names: Sequence[str]) -> tuple[Criterion, ...]:
    """Criterion ids from a drill file; ``all`` means the whole checklist."""
    if list(names) == ["all"]:
        return ALL
    return tuple(Criterion(n) for n in names)
