"""The one drill sequencer: every entry point drives drills through it.

``pfdrill drill run`` (a suite, :mod:`.suite`), the Gherkin steps
(:mod:`pfdrill.bdd.scenario`), the gate, the schedule and game days are
front-ends: each turns its input into a :class:`~pfdrill.model.drill.DrillSpec`
and calls the sequencer's phase operations — all at once with
:meth:`Sequencer.run_all`, or one at a time as steps or people come to them.
Only this module calls the phase functions (:mod:`.safety`, :mod:`.injection`,
:mod:`.detection`, :mod:`.response`, and for game days :mod:`.watch`); an
import-linter contract says so. A game day's process may die mid-inject:
:meth:`Sequencer.checkpoint` writes the drill down, and a sequencer built with
``resume=`` carries it on after :meth:`Sequencer.take_over` (lease, snapshot
and fault re-attached, so :meth:`Sequencer.close` still restores).

Each operation runs its phase inside its SLA budget, tells the observers,
keeps what the phase found in the :class:`~pfdrill.drill.recorder.DrillRecorder`
and returns the :class:`~pfdrill.model.timeline.PhaseRecord`. An exception in
a phase is recorded as an ERROR, never propagated — except an interrupt
(SIGINT/SIGTERM), which is re-raised after the record is written.
:meth:`Sequencer.close` always restores, also after an interrupt, and folds
the records into the :class:`~pfdrill.model.result.DrillResult` (:mod:`.fold`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from pfdrill.drill import checkpoint, criteria, detection, fold, injection, response, safety
from pfdrill.drill import watch as watching
from pfdrill.drill.context import DrillContext, drill_incident_id, holder_identity
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.hold import Hold
from pfdrill.drill.interrupts import DrillInterrupted, interrupts_deferred, interrupts_raise
from pfdrill.drill.observer import DrillObserver, Observers
from pfdrill.drill.ports import IncidentLog, Steering
from pfdrill.drill.recorder import DrillRecorder
from pfdrill.errors import PfdrillError
from pfdrill.model.checkpoint import Checkpoint
from pfdrill.model.drill import CheckSpec, DrillSpec, FaultSpec
from pfdrill.model.header import RecordHeader
from pfdrill.model.phases import Outcome, PhaseResult
from pfdrill.model.result import DrillResult
from pfdrill.model.severity import Severity
from pfdrill.model.timeline import PHASE_ORDER, EventKind, Phase, PhaseRecord, PhaseStatus
from pfdrill.model.watch import WatchPlan

log = logging.getLogger(__name__)

Step = Callable[[DrillContext], PhaseResult]

# A failure here makes every later phase meaningless: nothing is injected, or
# the fault never took effect, so detection would be judged against nothing.
BLOCKING = frozenset({Phase.PREFLIGHT, Phase.INJECT})


class Sequencer:
    """One drill, phase by phase; see the module docstring."""

    def __init__(self, spec: DrillSpec, env: DrillEnvironment, *, run_id: str,
                 observers: Sequence[DrillObserver] | Observers = (),
                 incident_id: str | None = None, resume: Checkpoint | None = None) -> None:
        """``resume``: carry on a drill a dead process left (its checkpoint); then call
        :meth:`take_over` before any other operation."""
        clock = env.clock
        started = clock.now()
        header = RecordHeader.create(cluster=env.cluster_name, context=env.cluster.context,
                                     provider=env.provider, now=started, detection=env.detection)
        self.observers = observers if isinstance(observers, Observers) else Observers(observers)
        self._resume = resume
        if resume is not None:
            incident_id = incident_id or resume.incident_id
            self.rec = checkpoint.recorder(clock, resume,
                                           lambda e: self.observers.event(spec, e))
            header = self.rec.header
        else:
            self.rec = DrillRecorder(clock, header, started,
                                     listener=lambda e: self.observers.event(spec, e))
        self.ctx = DrillContext(
            spec=spec, env=env, rec=self.rec, hold=Hold(env.cluster.context, clock),
            observers=self.observers, run_id=run_id,
            incident_id=incident_id or drill_incident_id(run_id, spec.name),
            holder=holder_identity(run_id))
        self.result: DrillResult | None = None
        self._pending: DrillInterrupted | None = None
        self.observers.redact(env.redactions())
        self.observers.started(header, spec, run_id)

    @property
    def spec(self) -> DrillSpec:
        return self.ctx.spec

    @property
    def env(self) -> DrillEnvironment:
        return self.ctx.env

    @property
    def error(self) -> PfdrillError | None:
        """The environment or safety error that stopped the drill, if any."""
        return self.rec.error

    # --- the phase operations (defaults: the drill spec's own plan) --------------------------
    def preflight(self) -> PhaseRecord:
        return self._phase(Phase.PREFLIGHT, safety.preflight)

    def inject(self, fault: FaultSpec | None = None) -> PhaseRecord:
        spec = fault or self.spec.fault
        return self._phase(Phase.INJECT, lambda c: injection.inject(c, spec))

    def detect(self, alerts: Sequence[str] | None = None,
               within: float | None = None) -> PhaseRecord:
        budget = self._budget(Phase.DETECT, within)
        names = self.spec.expected_alerts if alerts is None else alerts
        return self._phase(Phase.DETECT, lambda c: detection.detect(c, names, within=budget),
                           budget)

    def classify(self, expected: Severity | None = None,
                 within: float | None = None) -> PhaseRecord:
        budget = self._budget(Phase.CLASSIFY, within)
        want = self.spec.expected_severity if expected is None else expected
        return self._phase(Phase.CLASSIFY,
                           lambda c: detection.classify(c, want, within=budget), budget)

    def respond(self, sections: Sequence[str] | None = None) -> PhaseRecord:
        plan = self.spec.runbook
        names = (plan.respond if plan else ()) if sections is None else sections
        return self._phase(Phase.RESPOND, lambda c: response.respond(c, names))

    def mitigate(self, checks: Sequence[CheckSpec] | None = None,
                 within: float | None = None) -> PhaseRecord:
        budget = self._budget(Phase.MITIGATE, within)
        specs = self.spec.mitigation if checks is None else checks
        return self._phase(Phase.MITIGATE,
                           lambda c: response.mitigate(c, specs, within=budget), budget)

    def rollback(self, why: str = "rolled back by the facilitator") -> None:
        """Take the fault out (the root cause is fixed); not a phase of its own."""
        self.ctx.rollback_fault(why)

    def recover(self, sections: Sequence[str] | None = None,
                checks: Sequence[CheckSpec] | None = None,
                within: float | None = None) -> PhaseRecord:
        """Roll the fault back, run the recovery sections, wait for steady state and checks."""
        budget = self._budget(Phase.RECOVER, within)
        plan = self.spec.runbook
        names = (plan.recover if plan else ()) if sections is None else sections
        specs = self.spec.recovery if checks is None else checks
        return self._phase(Phase.RECOVER, lambda c: response.recover(
            c, names, specs, within=budget), budget)

    def recovery_section(self, sections: Sequence[str]) -> PhaseRecord:
        """Runbook sections run while recovering, each step on its own (Gherkin, game days)."""
        return self._phase(Phase.RECOVER, lambda c: response.recovery_sections(c, sections))

    def recovery_checks(self, checks: Sequence[CheckSpec], within: float) -> PhaseRecord:
        """Checks that must hold after the rollback (Gherkin ``Then`` while recovering)."""
        return self._phase(Phase.RECOVER, lambda c: response.hold_checks(
            c, checks, within=within), within)

    def criteria(self, names: Sequence[str] | None = None,
                 follow_up: Sequence[str] | None = None) -> PhaseRecord:
        wanted = criteria.parse(self.spec.criteria if names is None else names)
        plan = self.spec.runbook
        sections = (plan.follow_up if plan else ()) if follow_up is None else follow_up
        return self._phase(Phase.CRITERIA, lambda c: response.judge_criteria(
            c, wanted, sections))

    # --- game days: people respond, a restarted process carries on ---------------------------
    def watch(self, plan: WatchPlan, log: IncidentLog, steering: Steering, *,
              within: float, budget_s: float | None = None) -> PhaseRecord:
        """People respond by hand; measure, assert nothing (:mod:`.watch`). The phase is
        judged against ``budget_s`` (default: the drill's resolve budget) from the injection."""
        budget = self.spec.sla.resolve if budget_s is None else budget_s
        return self._phase(Phase.RESPOND, lambda c: watching.watch(
            c, plan, log, steering, within=within), budget)

    def take_over(self) -> PhaseRecord:
        """Make a resumed drill's lease, snapshot and fault this process's to restore."""
        if self._resume is None:
            raise PfdrillError("take_over() is for a sequencer built with resume=")
        cp = self._resume
        return self._phase(Phase.PREFLIGHT, lambda c: safety.take_over(c, cp))

    def checkpoint(self) -> Checkpoint:
        """Everything a successor process needs to carry this drill on."""
        return checkpoint.capture(self.ctx)

    # --- whole drills ------------------------------------------------------------------------
    def run_all(self) -> DrillResult:
        """Every phase of the spec's plan, then restore; re-raise an interrupt after that.

        A failed preflight or injection makes the rest pointless (skipped); any other
        failure is recorded and the drill carries on, so the report shows the whole
        incident. An error (the environment failed, an exception) skips to restore.
        """
        steps: dict[Phase, Callable[[], PhaseRecord]] = {
            Phase.PREFLIGHT: self.preflight, Phase.INJECT: self.inject,
            Phase.DETECT: self.detect, Phase.CLASSIFY: self.classify,
            Phase.RESPOND: self.respond, Phase.MITIGATE: self.mitigate,
            Phase.RECOVER: self.recover, Phase.CRITERIA: self.criteria,
        }
        try:
            with interrupts_raise():
                stop: str | None = None
                for phase in PHASE_ORDER:
                    if phase is Phase.RESTORE:
                        continue
                    if stop is not None:
                        self.skip(phase, stop)
                        continue
                    record = steps[phase]()
                    if record.status is PhaseStatus.ERROR:
                        stop = f"skipped: {phase.value} could not be carried out"
                    elif phase in BLOCKING and not record.status.ok:
                        stop = f"skipped: {phase.value} failed"
        except DrillInterrupted as exc:
            self._pending = exc  # re-raised by close(), once restored
        return self.close()

    def close(self) -> DrillResult:
        """Restore (always), collect the charts' series, fold the result, tell the observers.

        Idempotent. Signals arriving meanwhile are deferred and re-raised once the
        result exists, as is an interrupt :meth:`run_all` caught (one that a phase
        operation raised has already reached its caller).
        """
        if self.result is None:
            interrupted = self.rec.interrupted
            if interrupted is not None:
                self.rec.note(EventKind.INTERRUPTED, f"{interrupted}; restoring")
            with interrupts_deferred() as deferred:
                self._phase(Phase.RESTORE, safety.restore)
                series = detection.collect_series(self.ctx) if self.spec.metrics else ()
            if deferred.received:
                late = DrillInterrupted(deferred.received[0])
                self.rec.interrupted_by(late)
                self._pending = self._pending or late
            self.result = fold.result(self.ctx, series)
            self.observers.finished(self.result)
        pending, self._pending = self._pending, None
        if pending is not None:
            raise pending
        return self.result

    def skip(self, phase: Phase, reason: str) -> PhaseRecord:
        now = round(self.rec.elapsed(), 3)
        record = PhaseRecord(phase=phase, status=PhaseStatus.SKIPPED, started_at=now,
                             ended_at=now, budget_s=self.ctx.budget(phase), reason=reason)
        self.rec.add_phase(record)
        self.observers.phase_completed(self.spec, record)
        return record

    # --- running one phase -------------------------------------------------------------------
    def _budget(self, phase: Phase, within: float | None) -> float:
        return self.ctx.budget(phase) if within is None else within

    def _phase(self, phase: Phase, step: Step, budget_s: float | None = None) -> PhaseRecord:
        """Run ``step`` as ``phase``: budget, observers, timeline, recorder; its record."""
        rec, spec = self.rec, self.spec
        budget = self.ctx.budget(phase) if budget_s is None else budget_s
        start = rec.open_phase(budget)
        self.observers.phase_started(spec, phase, budget)
        rec.note(EventKind.PHASE_STARTED, f"{phase.title} (budget {budget:g} s)", phase)
        interrupted: DrillInterrupted | None = None
        try:
            found = step(self.ctx)
            rec.keep(found)
            outcome = found.outcome
        except DrillInterrupted as exc:
            interrupted = exc
            rec.interrupted_by(exc)
            outcome = Outcome(PhaseStatus.ERROR, f"interrupted by {exc.signame}")
        except PfdrillError as exc:
            rec.errored(exc)
            outcome = Outcome(PhaseStatus.ERROR, str(exc))
        except Exception as exc:
            log.exception("phase %s raised", phase.value)
            outcome = Outcome(PhaseStatus.ERROR, f"{type(exc).__name__}: {exc}")
        end = rec.elapsed()
        measured = outcome.measured if outcome.measured is not None else end - start
        status, reason = outcome.status, outcome.reason
        if status is PhaseStatus.PASSED and measured > budget:
            status = PhaseStatus.FAILED
            reason = f"took {measured:.1f} s, over its {budget:g} s budget" + (
                f" ({outcome.reason})" if outcome.reason else "")
        record = PhaseRecord(phase=phase, status=status, started_at=round(start, 3),
                             ended_at=round(end, 3), budget_s=budget,
                             measured_s=round(measured, 3), reason=reason)
        rec.add_phase(record)
        rec.note(EventKind.PHASE_COMPLETED, f"{phase.title}: {status.value}"
                 + (f" — {reason}" if reason else ""), phase)
        self.observers.phase_completed(spec, record)
        if interrupted is not None:
            raise interrupted
        return record
