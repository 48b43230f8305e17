"""A game day put together: plan, directory, drill environment, workspace, watchers, dashboard.

:func:`open_gameday` is what ``pfdrill gameday run`` does before the first
command: bad input fails here (file and line), before any change. It resumes
the unfinished game day of the same file if there is one — its record, its
workspace, and (through the conductor) its running inject — else starts a
new one. :meth:`GameDay.run` serves the dashboard, publishes where the
control API listens, runs the conductor, and on the way out writes the
after-action report when the day has ended. :func:`report` (re)writes that
report from the directory alone, e.g. after ``pfctl action close``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from pfdrill.dashboard.board import Dashboard
from pfdrill.dashboard.world import Surroundings, WorldWatch
from pfdrill.drill import live, suitefile, wiring
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.live import LiveJournal
from pfdrill.drill.wiring import StackEnvironmentFactory
from pfdrill.errors import InvalidInput, SafetyRefused
from pfdrill.gameday import aar, conductor, machine, store, workspace
from pfdrill.gameday import plan as plan_file
from pfdrill.gameday.store import GameDayDir, StateStore
from pfdrill.history.actions import ActionRegister
from pfdrill.model.drill import SuiteSpec
from pfdrill.model.gameday import AfterActionReport, GameDayPlan, GameDayState, GameDayStatus
from pfdrill.model.live import LiveEvent, LiveKind, Observation, Source
from pfdrill.obs.api import PrometheusAPI
from pfdrill.proc import lineage
from pfdrill.report import aar as aar_report
from pfdrill.settings.paths import Paths


def running(paths: Paths | None = None) -> store.Endpoint | None:
    """The game day a live process runs now, if any."""
    ep = store.endpoint(paths)
    return ep if ep is not None and lineage.pid_alive(ep.pid) else None


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if found:
        return found
    from pfdrill.toolchain import build

    return str(build.load().path("kubectl"))


def _resumable(plan: GameDayPlan, paths: Paths) -> GameDayDir | None:
    for gdir in store.unfinished(paths):
        state = gdir.load()
        if state.plan.name == plan.name and Path(state.plan.file).resolve() == \
                Path(plan.file).resolve():
            return gdir
    return None


@dataclasses.dataclass
class GameDay:
    dir: GameDayDir
    state_store: StateStore
    conductor: conductor.Conductor
    dashboard: Dashboard
    world: WorldWatch
    workspace: workspace.Workspace
    env: DrillEnvironment
    paths: Paths
    resumed: bool

    @property
    def state(self) -> GameDayState:
        return self.state_store.state

    def run(self, *, reports: Path, port: int = 0,
            started: Callable[[GameDay, str], None] = lambda _g, _u: None) -> GameDayState:
        """Serve, conduct until the day ends (or is detached), report; always tidy up."""
        url = self.dashboard.start(port=port)
        try:
            self.state_store.update(lambda s: dataclasses.replace(s, dashboard_url=url),
                                    "resumed" if self.resumed else "the game day is open")
            store.publish_endpoint(store.Endpoint(id=self.state.id, pid=os.getpid(), url=url,
                                                  file=self.state.plan.file), self.paths)
            self.world.start()
            started(self, url)
            state = self.conductor.run()
        finally:
            self.world.stop()
            self.dashboard.stop()
            store.withdraw_endpoint(self.state.id, self.paths)
            self.env.close()
        if state.status is GameDayStatus.FINISHED:
            report(self.dir, reports, secrets=self.env.redactions())
        return state


def open_gameday(file: Path, factory: StackEnvironmentFactory, *,
                 paths: Paths | None = None) -> GameDay:
    p = paths or Paths.from_env()
    gplan = plan_file.load(file)  # bad input stops here, before anything runs
    profiles = {i.drill.profile for i in gplan.injects}
    if len(profiles) != 1:
        raise InvalidInput("a game day's drills share one timing profile (found "
                           f"{', '.join(sorted(x.value for x in profiles))})", file=file)
    other = running(p)
    if other is not None:
        raise SafetyRefused(f"game day {other.id} is running already (pid {other.pid}, "
                            f"{other.url})")
    found = _resumable(gplan, p)
    profile = profiles.pop()
    if found is not None and found.load().current is not None:
        # An inject is held: bringing the stack "up" would deploy the fabric again and undo
        # the fault and the responders' work under it. The stack runs; wire to it as it is.
        env = wiring.wire(factory.stack(), profile)
    else:
        env = factory.build(profile)
    try:
        suite = SuiteSpec(name=gplan.name, file=gplan.file,
                          drills=tuple(i.drill for i in gplan.injects))
        suitefile.check(suite, env.faults, env.runbook)
        around = Surroundings.of_stack(name=factory.name, provider=factory.provider,
                                       kubeconfig=factory.kubeconfig, context=factory.context,
                                       config=factory.config, paths=p)
        now = time.time()
        if found is not None:
            gdir, state = found, found.load()
        else:
            game_id = f"{gplan.name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
            gdir, state = GameDayDir.of(game_id, p), machine.new(game_id, gplan, now)
        ws = workspace.load(gdir)
        if ws is None:
            runbook = next((i.drill.runbook.path for i in gplan.injects if i.drill.runbook), "")
            ws = workspace.Workspace.create(around, env.cluster, runbook, gdir, _kubectl())
            workspace.save(gdir, ws)
        journal = LiveJournal(live.directory(p), run_id=state.id)
        journal.redact(env.redactions())
        state_store = StateStore(gdir, dataclasses.replace(state, workspace=str(ws.root)),
                                 announce=conductor.announcer(journal))
        cond = conductor.Conductor(state_store, env, journal=journal,
                                   log=workspace.IncidentLog(gdir.incident_db))
        # a resumed game day goes on from what its previous process reported
        seen = gdir.observations()
        since = max((o.wall for o in seen if o.source is Source.SINK), default=state.started_wall)
        pollers = [*around.pollers(env.cluster, since=since),
                   workspace.CommandPoller(ws.audit, seen=sum(
                       1 for o in seen if o.source is Source.RESPONDER)),
                   workspace.IncidentPoller(gdir.incident_db, seen=sum(
                       1 for o in seen if o.source is Source.INCIDENTS))]
        world = WorldWatch(pollers, _observer(gdir, journal, state.id))
        board = Dashboard(journals=live.directory(p), run_id=state.id,
                          prometheus=PrometheusAPI(around.prometheus_url), title=gplan.title,
                          tokens=gdir.tokens, controller=cond)
    except BaseException:
        env.close()
        raise
    return GameDay(dir=gdir, state_store=state_store, conductor=cond, dashboard=board,
                   world=world, workspace=ws, env=env, paths=p, resumed=found is not None)


def _observer(gdir: GameDayDir, journal: LiveJournal,
              run_id: str) -> Callable[[Observation], None]:
    """Keeps each observation for the report and journals it for live views."""
    def observed(o: Observation) -> None:
        gdir.observe([o])
        journal.publish(LiveEvent(wall=time.time(), run_id=run_id, kind=LiveKind.OBSERVED,
                                  observed=o))
    return observed


def find(game_id: str | None, paths: Paths | None = None) -> GameDayDir:
    """A game day's directory: by id, else the one running now, else the newest."""
    p = paths or Paths.from_env()
    if game_id:
        gdir = GameDayDir.of(game_id, p)
        if not gdir.exists():
            raise InvalidInput(f"no game day {game_id!r} under {store.root(p)}")
        return gdir
    ep = running(p)
    if ep is not None:
        return GameDayDir.of(ep.id, p)
    base = store.root(p)
    dirs = sorted((d for d in base.iterdir() if (d / "state.json").is_file()),
                  key=lambda d: (d / "state.json").stat().st_mtime) if base.is_dir() else []
    if not dirs:
        raise InvalidInput(f"no game day under {base} yet (pfdrill gameday run FILE)")
    return GameDayDir(dirs[-1])


def actions(gdir: GameDayDir) -> ActionRegister:
    return ActionRegister(gdir.incident_db)


def after_action(gdir: GameDayDir) -> AfterActionReport:
    state = gdir.load()
    items = actions(gdir).items(f"gameday:{state.id}")
    return aar.build(state, gdir.results(), gdir.observations(), items, generated=time.time())


def report(gdir: GameDayDir, reports: Path, *, secrets: tuple[str, ...] = ()) -> Path:
    """(Re)write the after-action report into ``reports/<game-day id>/``; its directory."""
    out = reports / gdir.path.name
    aar_report.write(out, after_action(gdir), secrets)
    return out
