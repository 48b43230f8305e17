"""The drill engine: one drill from its drill-file record through every phase, then restore.

Build and run a drill from Python::

    from pathlib import Path
    from pfdrill.drill import engine, fake, suitefile

    suite = suitefile.load("drills/weekly.yaml")
    world = fake.FakeWorld()                      # a simulated fabric; for the real one:
    env = fake.environment(world, Path("/tmp/pfdrill-example"))
    # env = wiring.StackEnvironmentFactory.from_options().build(suite.drills[0].profile)
    result = engine.Drill(suite.drills[0], env, run_id="example").run()
    print(result.headline())                      # adapter-fail-open: PASSED
    print(result.measures.mttd)                   # seconds, injection -> first notification

Phases run in :data:`~pfdrill.model.timeline.PHASE_ORDER`. A failed
preflight or injection makes the rest pointless (they are skipped); any other
failure is recorded and the drill carries on, so the report shows the whole
incident. An error (the environment failed, an exception) skips to restore.
Restore always runs — on success, failure, exception and SIGINT/SIGTERM.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from pfdrill.drill import criteria, detection, injection, response, safety
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.observer import DrillObserver, Observers
from pfdrill.drill.session import DrillSession, Outcome
from pfdrill.drill.signals import DrillInterrupted, interrupts_deferred, interrupts_raise
from pfdrill.errors import PfdrillError
from pfdrill.model.drill import DrillSpec
from pfdrill.model.result import DrillResult
from pfdrill.model.timeline import PHASE_ORDER, EventKind, Phase, PhaseStatus

Step = Callable[[DrillSession], Outcome]


def _respond(s: DrillSession) -> Outcome:
    plan = s.spec.runbook
    if plan is None or not plan.respond:
        return Outcome.failed("the drill names no runbook section to respond with")
    return response.run_sections(s, plan.respond)


def _recover(s: DrillSession) -> Outcome:
    plan = s.spec.runbook
    return response.recover(s, plan.recover if plan else (), s.spec.recovery,
                            within=s.budget(Phase.RECOVER))


def _criteria(s: DrillSession) -> Outcome:
    wanted = criteria.parse(s.spec.criteria) if s.spec.criteria else ()
    if not wanted:
        return Outcome.passed("no success criteria requested")
    plan = s.spec.runbook
    return response.judge_criteria(s, wanted, plan.follow_up if plan else ())


STEPS: dict[Phase, Step] = {
    Phase.PREFLIGHT: safety.preflight,
    Phase.INJECT: lambda s: injection.inject(s, s.spec.fault),
    Phase.DETECT: lambda s: detection.detect(s, s.spec.expected_alerts,
                                             within=s.budget(Phase.DETECT)),
    Phase.CLASSIFY: lambda s: detection.classify(s, s.spec.expected_severity,
                                                 within=s.budget(Phase.CLASSIFY)),
    Phase.RESPOND: _respond,
    Phase.MITIGATE: lambda s: response.mitigate(s, s.spec.mitigation,
                                                within=s.budget(Phase.MITIGATE)),
    Phase.RECOVER: _recover,
    Phase.CRITERIA: _criteria,
    Phase.RESTORE: safety.restore,
}

# A failure here makes every later phase meaningless: nothing is injected, or
# the fault never took effect, so detection would be judged against nothing.
BLOCKING = frozenset({Phase.PREFLIGHT, Phase.INJECT})


class Drill:
    """One drill: a :class:`DrillSpec` run against a :class:`DrillEnvironment`."""

    def __init__(self, spec: DrillSpec, env: DrillEnvironment, *, run_id: str,
                 observers: Sequence[DrillObserver] = (),
                 incident_id: str | None = None) -> None:
        self.spec = spec
        self.env = env
        self.run_id = run_id
        self.observers = Observers(observers)
        self.incident_id = incident_id
        self.session: DrillSession | None = None

    @property
    def error(self) -> PfdrillError | None:
        """The environment or safety error that stopped the drill, if any."""
        return self.session.error if self.session else None

    def run(self) -> DrillResult:
        """Run every phase, restore, tell the observers; re-raise an interrupt after that."""
        s = DrillSession(self.spec, self.env, run_id=self.run_id, observers=self.observers,
                         incident_id=self.incident_id)
        self.session = s
        try:
            with interrupts_raise():
                self._phases(s)
        except DrillInterrupted as exc:
            s.interrupted = s.interrupted or exc
            s.note(EventKind.INTERRUPTED, f"{exc}; restoring")
        finally:
            with interrupts_deferred() as deferred:
                s.phase(Phase.RESTORE, functools.partial(STEPS[Phase.RESTORE], s))
                if s.spec.metrics:
                    detection.collect_series(s)
            if deferred.received and s.interrupted is None:
                s.interrupted = DrillInterrupted(deferred.received[0])
        result = s.result()
        self.observers.finished(result)
        if s.interrupted is not None:
            raise s.interrupted
        return result

    @staticmethod
    def _phases(s: DrillSession) -> None:
        stop: str | None = None
        for phase in PHASE_ORDER:
            if phase is Phase.RESTORE:
                continue
            if stop is not None:
                s.skip(phase, stop)
                continue
            record = s.phase(phase, functools.partial(STEPS[phase], s))
            if record.status is PhaseStatus.ERROR:
                stop = f"skipped: {phase.value} could not be carried out"
            elif phase in BLOCKING and not record.status.ok:
                stop = f"skipped: {phase.value} failed"
