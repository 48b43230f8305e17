"""One Gherkin scenario as a drill: the shared sequencer, driven one step at a time.

The scenario's steps are read before the first runs (:func:`pfdrill.bdd.plan.spec`),
so the drill's spec is whole from the start; each step then hands its intent
to :meth:`ScenarioDrill.do`, which runs the matching phase on the
:class:`~pfdrill.drill.sequencer.Sequencer` and fails the step when the phase
says no. :meth:`ScenarioDrill.close` always restores — the ``pfdrill_drill``
fixture calls it on teardown, whatever the steps did — and hands the result to
the observers (the pytest bridge, report writers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pfdrill.bdd import plan
from pfdrill.drill import checks
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.observer import DrillObserver
from pfdrill.drill.sequencer import Sequencer
from pfdrill.model.drill import CheckKind, DrillSpec
from pfdrill.model.result import DrillResult
from pfdrill.model.timeline import PhaseRecord


class StepFailed(AssertionError):
    """A drill step's verdict was "no"; pytest shows the phase and the reason."""


class ScenarioDrill:
    def __init__(self, spec: DrillSpec, env: DrillEnvironment, *, run_id: str,
                 observers: Sequence[DrillObserver] = ()) -> None:
        self.seq = Sequencer(spec, env, run_id=run_id, observers=observers)
        self._recovering = False
        self._handlers: dict[type, Callable[[plan.Intent], PhaseRecord | None]] = {
            plan.Steady: lambda i: self.seq.preflight(),
            plan.Inject: self._inject,
            plan.Detect: self._detect,
            plan.Classify: self._classify,
            plan.Section: self._section,
            plan.Rollback: self._rollback,
            plan.Check: self._check,
            plan.Criteria: self._criteria,
        }

    @property
    def env(self) -> DrillEnvironment:
        return self.seq.env

    @property
    def spec(self) -> DrillSpec:
        return self.seq.spec

    @property
    def result(self) -> DrillResult | None:
        return self.seq.result

    def do(self, intent: plan.Intent) -> PhaseRecord | None:
        """Run the phase a step means; :class:`StepFailed` when it did not pass."""
        record = self._handlers[type(intent)](intent)
        if record is not None and not record.status.ok:
            raise StepFailed(f"{record.phase.value}: {record.reason}")
        return record

    def _inject(self, i: plan.Intent) -> PhaseRecord:
        assert isinstance(i, plan.Inject)
        return self.seq.inject(i.fault)

    def _detect(self, i: plan.Intent) -> PhaseRecord:
        assert isinstance(i, plan.Detect)
        return self.seq.detect(i.alerts, i.within)

    def _classify(self, i: plan.Intent) -> PhaseRecord:
        assert isinstance(i, plan.Classify)
        return self.seq.classify(i.severity, i.within)

    def _section(self, i: plan.Intent) -> PhaseRecord:
        assert isinstance(i, plan.Section)
        if self._recovering:
            return self.seq.recovery_section([i.name])
        return self.seq.respond([i.name])

    def _rollback(self, i: plan.Intent) -> None:
        self._recovering = True
        self.seq.rollback("rolled back by the scenario")

    def _check(self, i: plan.Intent) -> PhaseRecord:
        assert isinstance(i, plan.Check)
        checks.validate(i.check)
        if i.check.kind is CheckKind.STEADY_STATE:
            self._recovering = True
            return self.seq.recover(sections=(), checks=(), within=i.within)
        if self._recovering:
            return self.seq.recovery_checks([i.check], i.within)
        return self.seq.mitigate([i.check], i.within)

    def _criteria(self, i: plan.Intent) -> PhaseRecord:
        assert isinstance(i, plan.Criteria)
        return self.seq.criteria(i.names, follow_up=())

    def close(self) -> DrillResult:
        """Restore (always) and finish the record; idempotent."""
        return self.seq.close()
