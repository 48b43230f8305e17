"""Each success criterion passes with the evidence that proves it, and fails without it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest

from pfdrill.drill import criteria
from pfdrill.drill.criteria import CriteriaContext, Criterion
from pfdrill.model.detection import Channel
from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import (
    Artifact,
    CommandEvidence,
    CommandOutcome,
    IncidentRecord,
    Notification,
    ProbeSample,
    SectionEvidence,
    SteadyState,
)
from pfdrill.model.timeline import Phase, PhaseRecord, PhaseStatus

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
REPORT = """# Policy Enforcement Incident Report
## Root Cause
Diagnosed from alerts PolicyAdapterFailingOpen and signals: adapter failing open
## Lessons Learned
Detection took 9.8 s.
## Follow-up Actions
Review the drill report.
"""


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def full(spec: DrillSpec) -> CriteriaContext:
    phases = tuple(PhaseRecord(p, PhaseStatus.PASSED, 0, 1, 60) for p in Phase)
    report = Artifact("incident-report.md", "s/incident-report.md", "ab" * 32, 200, "md")
    return CriteriaContext(
        spec=spec, incident_id="INC-1", injected_wall=T0, phases=phases,
        sections=(SectionEvidence("Process Improvements", True, (CommandEvidence(
            "Process Improvements", 'git commit -m "Update runbooks"', CommandOutcome.OK, 0,
            1.0, 0.1),)),),
        steady_after=SteadyState(30.0, True, (ProbeSample("mode", "enforce", "enforce", True),)),
        incident=IncidentRecord("INC-1", "SEV-1", "resolved", at(1), resolved_wall=at(120),
                                postmortem_wall=at(130)),
        artifacts=(report, Artifact("postmortem.pdf", "s/postmortem.pdf", "cd" * 32, 900, "pdf"),
                   Artifact("follow-up.ics", "s/follow-up.ics", "ef" * 32, 40, "ics")),
        texts={report.path: REPORT},
        notifications=(Notification(Channel.STAKEHOLDER, at(100), "resolved"),
                       Notification(Channel.TEAM, at(101), "update")),
        rules_before=frozenset({"A"}), rules_now=frozenset({"A", "PolicyEnforcementFailure"}),
        root_cause_terms=("adapter",), resolve_budget_s=420.0)


Breaker = Callable[[CriteriaContext], CriteriaContext]


def _phase_failed(phase: Phase) -> Breaker:
    def brk(c: CriteriaContext) -> CriteriaContext:
        return dataclasses.replace(c, phases=tuple(
            dataclasses.replace(p, status=PhaseStatus.FAILED, reason="nope")
            if p.phase is phase else p for p in c.phases))
    return brk


def _incident(**changes: str | None) -> Breaker:
    def brk(c: CriteriaContext) -> CriteriaContext:
        assert c.incident is not None
        return dataclasses.replace(c, incident=dataclasses.replace(c.incident, **changes))  # type: ignore[arg-type]
    return brk


BREAKERS: dict[Criterion, list[tuple[Breaker, str]]] = {
    Criterion.RESOLVED_WITHIN_SLA: [
        (lambda c: dataclasses.replace(c, incident=None), "not in the incident store"),
        (_incident(status="investigating"), "status is 'investigating'"),
        (_incident(resolved_wall=at(500)), "resolved after 500.0 s, SLA is 420 s")],
    Criterion.ROOT_CAUSE: [
        (lambda c: dataclasses.replace(c, texts={}), "no root cause recorded"),
        (lambda c: dataclasses.replace(c, root_cause_terms=("certificate",)),
         "does not match the injected fault")],
    Criterion.MITIGATION: [(_phase_failed(Phase.MITIGATE), "not verified: nope")],
    Criterion.RECOVERY: [
        (_phase_failed(Phase.RECOVER), "not verified: nope"),
        (lambda c: dataclasses.replace(c, steady_after=None), "steady state was not observed")],
    Criterion.POSTMORTEM: [
        (_incident(postmortem_wall=None), "no post-mortem scheduled"),
        (lambda c: dataclasses.replace(c, artifacts=c.artifacts[:1]), "no post-mortem PDF")],
    Criterion.PROCESS_IMPROVEMENTS: [
        (lambda c: dataclasses.replace(c, sections=()), "no process-improvement change")],
    Criterion.MONITORING: [
        (lambda c: dataclasses.replace(c, rules_now=c.rules_before), "no new alerting rule"),
        (lambda c: dataclasses.replace(c, rules_now=None, unavailable={
            "Prometheus rules": "connection refused"}),
         "Prometheus rules unavailable: connection refused")],
    Criterion.COMMUNICATION: [
        (lambda c: dataclasses.replace(c, notifications=c.notifications[:1]),
         "no team notification")],
    Criterion.LESSONS: [
        (lambda c: dataclasses.replace(c, texts={k: v.replace("Detection took 9.8 s.",
                                                               "$LESSONS_LEARNED")
                                                 for k, v in c.texts.items()}),
         "has no lessons learned")],
    Criterion.FOLLOW_UPS: [
        (lambda c: dataclasses.replace(c, artifacts=c.artifacts[:2]), "not tracked"),
        (lambda c: dataclasses.replace(c, texts={}), "no follow-up actions recorded")],
}


def test_every_criterion_is_covered() -> None:
    assert set(BREAKERS) == set(Criterion)


def test_all_pass_with_full_evidence(fail_open: DrillSpec) -> None:
    results = criteria.judge(criteria.ALL, full(fail_open))
    assert [r.passed for r in results] == [True] * 10, [r.reason for r in results]
    assert results[0].title == "Incident resolved within SLA"
    assert all(r.evidence for r in results)


@pytest.mark.parametrize(("crit", "index"), [(c, i) for c, bs in BREAKERS.items()
                                             for i in range(len(bs))])
def test_missing_evidence_fails_the_criterion_with_the_reason(
        fail_open: DrillSpec, crit: Criterion, index: int) -> None:
    breaker, reason = BREAKERS[crit][index]
    (result,) = criteria.judge([crit], breaker(full(fail_open)))
    assert not result.passed
    assert reason in result.reason, result.reason


def test_a_judge_that_crashes_fails_rather_than_passes(fail_open: DrillSpec) -> None:
    ctx = dataclasses.replace(full(fail_open), root_cause_terms=None)  # type: ignore[arg-type]
    (result,) = criteria.judge([Criterion.ROOT_CAUSE], ctx)
    assert not result.passed and "could not be judged" in result.reason


def test_markdown_section() -> None:
    assert criteria.markdown_section(REPORT, "lessons learned") == "Detection took 9.8 s."
    assert criteria.markdown_section(REPORT, "Nope") is None
