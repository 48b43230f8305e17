"""A game day conducted on the simulated fabric: commands, measures, a restart, the report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from pfdrill.drill import fake
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.live import JournalTail, LiveJournal
from pfdrill.drill.ports import Fault
from pfdrill.gameday import aar, conductor, machine, plan
from pfdrill.gameday.store import GameDayDir, StateStore
from pfdrill.history.actions import ActionRegister
from pfdrill.model.detection import Channel
from pfdrill.model.evidence import IncidentRecord
from pfdrill.model.gameday import Action, Command, GameDayPlan, GameDayStatus, InjectStatus, Role
from pfdrill.model.live import LiveKind
from pfdrill.model.timeline import EventKind
from pfdrill.model.watch import Measure
from pfdrill.report import aar as aar_report

REPO = Path(__file__).resolve().parents[3]
FIRST, SECOND = "enforcement-disabled-drift", "adapter-fail-open"


class Store:
    def __init__(self) -> None:
        self.incidents: list[IncidentRecord] = []

    def declared(self, since: dt.datetime) -> Sequence[IncidentRecord]:
        return [i for i in self.incidents if dt.datetime.fromisoformat(i.created_wall) >= since]


class Remembered:
    """A fault catalog whose faults outlive a conductor, as the real ones do on disk."""

    def __init__(self, inner: fake.FakeWorld) -> None:
        from pfdrill.drill.fake.faults import FakeFaultCatalog

        self.inner = FakeFaultCatalog(inner)
        self.made: dict[str, Fault] = {}

    def names(self) -> Sequence[str]:
        return self.inner.names()

    def create(self, name: str) -> Fault:
        return self.made.setdefault(name, self.inner.create(name))


def team(world: fake.FakeWorld, store: Store, *, declare_s: float, mitigate_s: float,
         recover_s: float, severity: str = "SEV-1",
         also: Sequence[tuple[float, Callable[[], object]]] = ()) -> None:
    """The responders (and anybody else) by the simulated clock, from now."""
    now = world.clock.now()
    ns = world.namespace

    def declare() -> None:
        store.incidents.append(IncidentRecord(
            incident_id=f"INC-{len(store.incidents) + 1}", severity=severity, status="open",
            created_wall=world.clock.now().replace(microsecond=0).isoformat()))

    def mitigate() -> None:
        world.cluster.patch_configmap(ns, "policy-config", {"enforcement_mode": "disabled"})
        world.cluster.scale_deployment(ns, "sidecar-watcher", 0)
        world.notify(Channel.SECURITY, "enforcement disabled")

    def recover() -> None:
        world.cluster.scale_deployment(ns, "sidecar-watcher", 2)
        world.cluster.patch_configmap(ns, "policy-config", {"enforcement_mode": "enforce"})

    for delay, effect in ((declare_s, declare), (mitigate_s, mitigate), (recover_s, recover),
                          *also):
        world.at(now + dt.timedelta(seconds=delay), effect)  # type: ignore[arg-type]


@dataclasses.dataclass
class Day:
    world: fake.FakeWorld
    env: DrillEnvironment
    dir: GameDayDir
    live: Path
    log: Store
    gplan: GameDayPlan

    def wall(self) -> float:
        return self.world.clock.now().timestamp()

    def conductor(self) -> conductor.Conductor:
        state = self.dir.load() if self.dir.exists() else machine.new("gd-1", self.gplan,
                                                                     self.wall())
        journal = LiveJournal(self.live, run_id="gd-1", clock=self.wall)
        store = StateStore(self.dir, state, announce=conductor.announcer(journal, self.wall))
        return conductor.Conductor(store, self.env, journal=journal, log=self.log,
                                   clock=self.wall)


@pytest.fixture
def day(world: fake.FakeWorld, env: DrillEnvironment, tmp_path: Path) -> Day:
    gplan = plan.load(REPO / "drills" / "gameday.yaml")
    second = gplan.inject(SECOND)
    assert second is not None
    tight = dataclasses.replace(second, budgets={**second.budgets, "declaration": 60.0})
    gplan = dataclasses.replace(gplan, injects=tuple(
        tight if i.name == SECOND else i for i in gplan.injects))
    env = dataclasses.replace(env, faults=Remembered(world))
    return Day(world, env, GameDayDir(tmp_path / "gd-1"), tmp_path / "live", Store(), gplan)


def wait(cond: conductor.Conductor, done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {cond.state}"
        time.sleep(0.02)


def run_in_thread(cond: conductor.Conductor) -> threading.Thread:
    t = threading.Thread(target=cond.run, daemon=True)
    t.start()
    return t


def finished(cond: conductor.Conductor, name: str) -> Callable[[], bool]:
    return lambda: (st := cond.state.inject(name)) is not None and st.status.finished


def test_a_game_day_from_first_inject_to_the_report(day: Day, tmp_path: Path) -> None:
    cond = day.conductor()
    thread = run_in_thread(cond)
    team(day.world, day.log, declare_s=20, mitigate_s=30, recover_s=60)
    cond.command(Command(Action.INJECT, drill=FIRST), Role.FACILITATOR)
    with pytest.raises(Exception, match="still running"):
        cond.command(Command(Action.INJECT, drill=SECOND), Role.FACILITATOR)
    wait(cond, finished(cond, FIRST), "the first inject")

    def later(action: Action, role: Role = Role.FACILITATOR, **kw: object) -> Callable[[], str]:
        return lambda: cond.command(Command(action, **kw), role)  # type: ignore[arg-type]

    # the second team is late: paused 30 s by the facilitator, then declares at +120 s
    team(day.world, day.log, declare_s=120, mitigate_s=130, recover_s=160, also=(
        (40, later(Action.PAUSE)), (70, later(Action.RESUME)), (75, later(Action.HINT, hint=1)),
        (76, later(Action.NOTE, Role.OBSERVER, text="nobody looks at the adapter", author="Ann")),
        (80, later(Action.EXTEND, seconds=30, measure="mitigation")),
        (175, later(Action.STOP))))  # the room is done: the facilitator stops the inject
    cond.command(Command(Action.INJECT, drill=SECOND), Role.FACILITATOR)
    wait(cond, finished(cond, SECOND), "the second inject")
    cond.command(Command(Action.END), Role.FACILITATOR)
    thread.join(30)
    assert not thread.is_alive()

    state = day.dir.load()
    assert state.status is GameDayStatus.FINISHED and state.current is None
    first, second = state.inject(FIRST), state.inject(SECOND)
    assert first is not None and second is not None
    assert first.status is InjectStatus.RECOVERED and first.restored
    assert first.ended == "recovered; restored 60 s later"  # nobody stopped it: it settled
    assert second.ended == "recovered; stopped by the facilitator"
    assert second.status is InjectStatus.RECOVERED and second.paused_s(second.ended_wall or 0) \
        == pytest.approx(30.0, abs=0.5)
    assert day.dir.checkpoint() is None  # nothing left to resume
    assert set(day.dir.results()) == {FIRST, SECOND}

    ActionRegister(day.dir.incident_db).add("Alert on adapter fail-open", "Ann", "2030-01-31",
                                            source="gameday:gd-1", inject=SECOND)
    report = aar.build(state, day.dir.results(), (), ActionRegister(
        day.dir.incident_db).items("gameday:gd-1"), generated=day.wall())
    one, two = report.injects
    m1 = {m.measure: m for m in one.measures}
    m2 = {m.measure: m for m in two.measures}
    assert not one.over_budget and m1[Measure.DECLARATION].elapsed_s == pytest.approx(20, abs=2)
    # late: 120 s after the injection, 30 of them paused: 90 s of game time against 60
    assert two.over_budget == (Measure.DECLARATION,)
    assert m2[Measure.DECLARATION].elapsed_s == pytest.approx(90, abs=2)
    assert m2[Measure.MITIGATION].extended_s == 30 and not m2[Measure.MITIGATION].over_budget
    assert two.severity_matches and two.declared_severity == "SEV-1"
    sources = {e.source for e in two.timeline}
    assert {"drill", "facilitator", "observer"} <= sources
    kinds = [e.kind for e in two.timeline]
    assert kinds.index("injected") < kinds.index("pause") < kinds.index("hint")
    assert kinds[-1] == "restored" or "restored" in kinds

    out = aar_report.write(tmp_path / "reports", report, secrets=(fake.FAKE_WEBHOOK,))
    html = (tmp_path / "reports" / "aar.html").read_text()
    assert 'data-over-budget="true"' in html and "Alert on adapter fail-open" in html
    md = (tmp_path / "reports" / "aar.md").read_text()
    assert "**over budget**" in md and "| AI-1 |" in md
    doc = json.loads((tmp_path / "reports" / "aar.json").read_text())
    assert doc["injects"][1]["measures"][1]["over_budget"] is True
    assert out.id == "gd-1"

    events = JournalTail(day.live).read()
    kinds_seen = {e.kind for e in events}
    assert {LiveKind.GAMEDAY, LiveKind.DRILL_STARTED, LiveKind.EVENT,
            LiveKind.DRILL_FINISHED} <= kinds_seen
    assert events[-1].kind is LiveKind.GAMEDAY and events[-1].gameday is not None
    assert events[-1].gameday.status is GameDayStatus.FINISHED


def test_a_restarted_game_day_resumes_the_running_inject(day: Day) -> None:
    cond = day.conductor()
    thread = run_in_thread(cond)
    team(day.world, day.log, declare_s=20, mitigate_s=90, recover_s=120,
         also=((40, lambda: cond.command(Command(Action.DETACH), Role.FACILITATOR)),))
    cond.command(Command(Action.INJECT, drill=FIRST), Role.FACILITATOR)
    thread.join(60)
    assert not thread.is_alive() and cond.detached
    held = day.dir.load().inject(FIRST)
    assert held is not None and held.status is InjectStatus.RUNNING
    cp = day.dir.checkpoint()
    assert cp is not None and cp.lease_held and cp.fault_armed
    declared = held.reached(Measure.DECLARATION)
    assert declared is not None

    successor = day.conductor()  # a new process: same directory, same cluster
    thread = run_in_thread(successor)
    wait(successor, finished(successor, FIRST), "the resumed inject")
    successor.command(Command(Action.END), Role.FACILITATOR)
    thread.join(30)
    st = day.dir.load().inject(FIRST)
    assert st is not None and st.status is InjectStatus.RECOVERED and st.restored
    assert st.reached(Measure.DECLARATION) == declared  # measured once, on the same clock
    result = day.dir.results()[FIRST]
    assert any(e.kind is EventKind.SAFETY and "took over" in e.message for e in result.timeline)
    assert result.restore is not None and result.restore.ok
    assert day.world.config()["enforcement_mode"] == "enforce"


def test_an_abort_restores_at_once(day: Day) -> None:
    cond = day.conductor()
    thread = run_in_thread(cond)
    team(day.world, day.log, declare_s=500, mitigate_s=500, recover_s=500,
         also=((15, lambda: cond.command(Command(Action.ABORT), Role.FACILITATOR)),))
    cond.command(Command(Action.INJECT, drill=SECOND), Role.FACILITATOR)
    wait(cond, finished(cond, SECOND), "the aborted inject")
    cond.command(Command(Action.END), Role.FACILITATOR)
    thread.join(30)
    st = day.dir.load().inject(SECOND)
    assert st is not None and st.status is InjectStatus.ABORTED and st.restored
    assert st.ended == "aborted by the facilitator"
    assert day.world.ready("policy-adapter") == 1
