"""One Gherkin scenario as a drill: a :class:`DrillSession` driven step by step.

The drill record starts with a provisional spec (named after the scenario)
that the steps fill in as they reveal the fault, the expected severity and
alerts. :class:`ScenarioDrill.close` always restores — the ``drill`` fixture
calls it on teardown, whatever the steps did — and hands the result to the
observers (the pytest bridge, report writers).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from pfdrill.drill import checks, criteria, detection, injection, response, safety
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.observer import DrillObserver
from pfdrill.drill.session import DrillSession, Outcome
from pfdrill.drill.signals import interrupts_deferred
from pfdrill.model.drill import CheckSpec, DrillSpec, FaultSpec, ParamValue, RunbookPlan
from pfdrill.model.result import DrillResult
from pfdrill.model.severity import Severity
from pfdrill.model.sla import TimingProfile, default_budgets
from pfdrill.model.timeline import Phase, PhaseRecord


class StepFailed(AssertionError):
    """A drill step's verdict was "no"; pytest shows the phase and the reason."""


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63] or "scenario"


def provisional_spec(name: str, profile: TimingProfile, runbook: str) -> DrillSpec:
    return DrillSpec(name=slug(name), description=name, fault=FaultSpec("none"),
                     expected_severity=Severity.NONE, profile=profile,
                     sla=default_budgets(profile, Severity.SEV1), criteria=("all",),
                     runbook=RunbookPlan(path=runbook), scenario=name)


class ScenarioDrill:
    def __init__(self, name: str, env: DrillEnvironment, *, run_id: str, runbook: str,
                 observers: Sequence[DrillObserver] = ()) -> None:
        spec = provisional_spec(name, env.profile, runbook)
        self.session = DrillSession(spec, env, run_id=run_id, observers=observers)
        self.result: DrillResult | None = None
        self._recovering = False

    @property
    def env(self) -> DrillEnvironment:
        return self.session.env

    def _update(self, **changes: object) -> None:
        self.session.spec = dataclasses.replace(self.session.spec, **changes)  # type: ignore[arg-type]

    def _phase(self, phase: Phase, action: Callable[[], Outcome],
               budget_s: float | None = None) -> PhaseRecord:
        record = self.session.phase(phase, action, budget_s)
        if not record.status.ok:
            raise StepFailed(f"{phase.value}: {record.reason}")
        return record

    # --- the steps' operations ------------------------------------------------------
    def steady_state(self) -> PhaseRecord:
        return self._phase(Phase.PREFLIGHT, lambda: safety.preflight(self.session))

    def inject(self, fault: str, params: dict[str, ParamValue]) -> PhaseRecord:
        spec = FaultSpec(fault, params)
        self._update(fault=spec)
        return self._phase(Phase.INJECT, lambda: injection.inject(self.session, spec))

    def alert_fires(self, alerts: Sequence[str], within: float) -> PhaseRecord:
        self._update(expected_alerts=tuple(alerts))
        return self._phase(Phase.DETECT, lambda: detection.detect(
            self.session, alerts, within=within), budget_s=within)

    def classified_as(self, severity: Severity, within: float | None = None) -> PhaseRecord:
        budget = within if within is not None else default_budgets(
            self.env.profile, severity).budget(Phase.CLASSIFY)
        self._update(expected_severity=severity,
                     sla=default_budgets(self.env.profile, severity))
        return self._phase(Phase.CLASSIFY, lambda: detection.classify(
            self.session, severity, within=budget), budget_s=budget)

    def run_section(self, section: str) -> PhaseRecord:
        phase = Phase.RECOVER if self._recovering else Phase.RESPOND
        return self._phase(phase, lambda: response.run_sections(self.session, [section]))

    def rollback(self) -> None:
        self._recovering = True
        injection.rollback_fault(self.session, "rolled back by the scenario")

    def outcome(self, check: CheckSpec, within: float) -> PhaseRecord:
        checks.validate(check)
        if check.kind.value == "steady_state":
            self._recovering = True
            return self._phase(Phase.RECOVER, lambda: response.recover(
                self.session, (), (), within=within), budget_s=within)
        phase = Phase.RECOVER if self._recovering else Phase.MITIGATE
        into = self.session.recovery if self._recovering else self.session.mitigation

        def wait() -> Outcome:
            out = response.wait_checks(self.session, [check], within=within, into=into)
            if out.status.ok and phase is Phase.MITIGATE:
                self.session.time_to_mitigate = self.session.since_injection()
            return out
        return self._phase(phase, wait, budget_s=within)

    def success_criteria(self, names: Sequence[str] = ("all",)) -> PhaseRecord:
        wanted = criteria.parse(names)
        return self._phase(Phase.CRITERIA, lambda: response.judge_criteria(
            self.session, wanted))

    # --- the end ----------------------------------------------------------------------
    def close(self) -> DrillResult:
        """Restore (always) and finish the record; idempotent."""
        if self.result is not None:
            return self.result
        s = self.session
        with interrupts_deferred() as deferred:
            s.phase(Phase.RESTORE, lambda: safety.restore(s))
        self.result = s.result()
        s.observers.finished(self.result)
        deferred.reraise()
        return self.result
