"""The game-day watch phase and taking a running drill over, on the simulated fabric."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from pfdrill.drill import fake
from pfdrill.drill.environment import LEASE_NAME, DrillEnvironment
from pfdrill.drill.ports import Directive, Fault, Steer
from pfdrill.drill.sequencer import Sequencer
from pfdrill.model.detection import Channel
from pfdrill.model.drill import DrillSpec, SuiteSpec
from pfdrill.model.evidence import IncidentRecord
from pfdrill.model.phases import Takeover, Watch
from pfdrill.model.timeline import EventKind, Phase, PhaseStatus
from pfdrill.model.watch import Measure, WatchPlan


class Store:
    """The responders' incident store: what `pfctl incident create` would have written."""

    def __init__(self) -> None:
        self.incidents: list[IncidentRecord] = []

    def declared(self, since: dt.datetime) -> Sequence[IncidentRecord]:
        return [i for i in self.incidents if dt.datetime.fromisoformat(i.created_wall) >= since]


class Script:
    """A facilitator: directives by call number, or an exception to die with."""

    def __init__(self, at: dict[int, Steer] | None = None,
                 die: Callable[[int], BaseException | None] = lambda _n: None) -> None:
        self.calls = 0
        self.at = at or {}
        self.die = die

    def steer(self) -> Steer:
        self.calls += 1
        death = self.die(self.calls)
        if death is not None:
            raise death
        return self.at.get(self.calls, Steer())


class Killed(BaseException):
    """The game day's process died (what SIGKILL does: nothing runs after it)."""


def plan_of(spec: DrillSpec) -> WatchPlan:
    return WatchPlan(alerts=spec.expected_alerts, mitigation=spec.mitigation,
                     recovery=spec.recovery)


def responders(world: fake.FakeWorld, store: Store, *, declare_s: float, mitigate_s: float,
               recover_s: float, severity: str = "SEV-1") -> None:
    """The team, by the clock: declare, mitigate (SEV-1: watcher down, security told), recover."""
    now = world.clock.now()
    ns = world.namespace

    def declare() -> None:
        store.incidents.append(IncidentRecord(
            incident_id="INC-1", severity=severity, status="open",
            created_wall=world.clock.now().replace(microsecond=0).isoformat()))

    def mitigate() -> None:
        world.cluster.patch_configmap(ns, "policy-config", {"enforcement_mode": "disabled"})
        world.cluster.scale_deployment(ns, "sidecar-watcher", 0)
        world.notify(Channel.SECURITY, "Policy enforcement disabled")

    def recover() -> None:
        world.cluster.scale_deployment(ns, "sidecar-watcher", 2)
        world.cluster.patch_configmap(ns, "policy-config", {"enforcement_mode": "enforce"})

    for delay, effect in ((declare_s, declare), (mitigate_s, mitigate), (recover_s, recover)):
        world.at(now + dt.timedelta(seconds=delay), effect)


@pytest.fixture
def drill(weekly: SuiteSpec) -> DrillSpec:
    return next(d for d in weekly.drills if d.name == "enforcement-disabled-drift")


def start(spec: DrillSpec, env: DrillEnvironment) -> Sequencer:
    seq = Sequencer(spec, env, run_id="gd-1")
    assert seq.preflight().status is PhaseStatus.PASSED
    assert seq.inject().status is PhaseStatus.PASSED
    return seq


def test_watch_measures_every_milestone_from_the_injection(
        drill: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    store = Store()
    seq = start(drill, env)
    responders(world, store, declare_s=20, mitigate_s=30, recover_s=60)
    record = seq.watch(plan_of(drill), store, Script(), within=600)
    w = seq.rec.latest(Watch)
    assert w is not None and w.ended == "recovered"
    inj = seq.ctx.injected_at
    assert inj is not None
    since = {m.measure: m.at - inj for m in w.milestones}
    # the fake notifies detect (8 s) + group wait (2 s) after the injection
    assert since[Measure.DETECTION] == pytest.approx(10.0, abs=1.5)
    assert since[Measure.DECLARATION] == pytest.approx(20.0, abs=1.5)
    assert since[Measure.MITIGATION] == pytest.approx(30.0, abs=1.5)
    assert since[Measure.RECOVERY] == pytest.approx(60.0, abs=1.5)
    assert w.declaration is not None and w.declaration.severity == "SEV-1"
    assert w.rolled_back_at is not None  # mitigation held: the fault went out by itself
    assert record.phase is Phase.RESPOND and record.status is PhaseStatus.PASSED
    milestones = [e for e in seq.rec.timeline if e.kind is EventKind.MILESTONE]
    assert [e.message.split(":")[0] for e in milestones] == [m.value for m in Measure]
    result = seq.close()
    assert result.restore is not None and result.restore.ok


def test_a_late_team_is_measured_not_failed_until_the_resolve_budget(
        drill: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    store = Store()
    seq = start(drill, env)
    responders(world, store, declare_s=200, mitigate_s=250, recover_s=300)
    seq.watch(plan_of(drill), store, Script(), within=900, budget_s=120)
    w = seq.rec.latest(Watch)
    assert w is not None and w.reached(Measure.DECLARATION) is not None
    phase = seq.rec.phases[-1]
    assert phase.status is PhaseStatus.FAILED and "over its 120 s budget" in phase.reason
    seq.close()


def test_the_facilitators_rollback_lets_the_fabric_recover(
        drill: DrillSpec, env: DrillEnvironment) -> None:
    seq = start(drill, env)
    seq.watch(plan_of(drill), Store(), Script({3: Steer(Directive.ROLL_BACK, "fixed")}),
              within=600)
    w = seq.rec.latest(Watch)
    # this fault's rollback heals it: steady state is back without the team's mitigation
    assert w is not None and w.ended == "recovered" and w.rolled_back_at is not None
    assert w.reached(Measure.MITIGATION) is None
    assert any(e.kind is EventKind.ROLLBACK and "fixed" in e.message for e in seq.rec.timeline)
    seq.close()


def test_the_facilitator_stops_the_watch(drill: DrillSpec, env: DrillEnvironment) -> None:
    seq = start(drill, env)
    seq.watch(plan_of(drill), Store(), Script({4: Steer(Directive.STOP, "aborted")}), within=600)
    w = seq.rec.latest(Watch)
    assert w is not None and w.ended == "aborted" and w.rolled_back_at is None
    assert w.outcome.status is PhaseStatus.FAILED and "not reached" in w.outcome.reason
    result = seq.close()
    assert result.restore is not None and result.restore.ok
    assert any(e.kind is EventKind.ROLLBACK and "restore" in e.message for e in result.timeline)


def test_time_is_up_without_a_response(drill: DrillSpec, env: DrillEnvironment) -> None:
    seq = start(drill, env)
    seq.watch(plan_of(drill), Store(), Script(), within=30)
    w = seq.rec.latest(Watch)
    assert w is not None and w.ended.startswith("time is up")
    assert w.reached(Measure.DETECTION) is not None and w.reached(Measure.DECLARATION) is None
    seq.close()


class _SameFault:
    """The fault as a successor finds it: its state survived the process (on disk, for real)."""

    def __init__(self, driver: Fault) -> None:
        self.driver = driver

    def names(self) -> Sequence[str]:
        return ()

    def create(self, name: str) -> Fault:
        return self.driver


def test_a_successor_takes_the_drill_over_and_still_restores(
        drill: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment, tmp_path: Path) -> None:
    store = Store()
    first = start(drill, env)
    responders(world, store, declare_s=20, mitigate_s=200, recover_s=230)
    t0 = first.rec.t0
    with pytest.raises(Killed):  # dies once the declaration is measured
        first.watch(plan_of(drill), store, Script(die=lambda n: Killed() if n == 30 else None),
                    within=900)
    cp = first.checkpoint()
    assert cp.lease_held and cp.snapshot_held and cp.fault_armed
    driver = first.ctx.hold.fault
    assert driver is not None
    before = first.rec.latest(Watch)
    assert before is not None and before.reached(Measure.DECLARATION) is not None
    # a dead holder keeps the lease: somebody else's preflight would be refused
    assert world.cluster.leases[(world.namespace, LEASE_NAME)][0] == cp.holder

    successor = Sequencer(drill, dataclasses.replace(env, faults=_SameFault(driver)),
                          run_id="gd-1", resume=cp)
    assert successor.rec.t0 == t0  # the same clock: measures go on from the same origin
    took = successor.take_over()
    assert took.status is PhaseStatus.PASSED
    over = successor.rec.latest(Takeover)
    assert over is not None and over.fault_armed and over.previous_holder == cp.holder
    successor.watch(plan_of(drill), store, Script(), within=900)
    after = successor.rec.latest(Watch)
    assert after is not None and after.ended == "recovered"
    assert after.reached(Measure.DECLARATION) == before.reached(Measure.DECLARATION)
    result = successor.close()
    assert result.restore is not None and result.restore.ok
    assert (world.namespace, LEASE_NAME) not in world.cluster.leases
    assert env.snapshots.load(world.cluster.context, world.namespace) is None
    assert world.config()["enforcement_mode"] == "enforce"


def test_nothing_is_taken_over_once_another_run_restored_it(
        drill: DrillSpec, world: fake.FakeWorld, env: DrillEnvironment) -> None:
    first = start(drill, env)
    cp = first.checkpoint()
    env.snapshots.clear(world.cluster.context, world.namespace)  # another preflight restored it
    successor = Sequencer(drill, env, run_id="gd-1", resume=cp)
    record = successor.take_over()
    assert record.status is PhaseStatus.FAILED and "already restored" in record.reason
    assert not successor.ctx.hold.fault_active and not successor.ctx.hold.lease_held
    first.ctx.hold.rollback()
