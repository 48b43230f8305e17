"""A drill from its drill-file record: every phase of its plan, then restore.

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

Phases run in the one :class:`~pfdrill.drill.sequencer.Sequencer`
(:meth:`~pfdrill.drill.sequencer.Sequencer.run_all`); restore always runs —
on success, failure, exception and SIGINT/SIGTERM.
"""

from __future__ import annotations

from collections.abc import Sequence

from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.observer import DrillObserver, Observers
from pfdrill.drill.sequencer import Sequencer
from pfdrill.errors import PfdrillError
from pfdrill.model.drill import DrillSpec
from pfdrill.model.result import DrillResult


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
        self.sequencer: Sequencer | None = None

    @property
    def error(self) -> PfdrillError | None:
        """The environment or safety error that stopped the drill, if any."""
        return self.sequencer.error if self.sequencer else None

    def run(self) -> DrillResult:
        """Run every phase, restore, tell the observers; re-raise an interrupt after that."""
        self.sequencer = Sequencer(self.spec, self.env, run_id=self.run_id,
                                   observers=self.observers, incident_id=self.incident_id)
        return self.sequencer.run_all()
