"""The conductor: plays a game day's injects, one at a time, as the facilitator says.

The main thread runs :meth:`Conductor.run`: it waits for the facilitator's
commands (from the dashboard or ``pfdrill gameday inject NAME`` through the
control API, :meth:`Conductor.command`) and plays each inject through the one
:class:`~pfdrill.drill.sequencer.Sequencer` — preflight, inject, then the watch
phase while people respond — and always :meth:`~pfdrill.drill.sequencer.Sequencer.close`,
which restores. Commands that only change the record (pause, hint, reveal,
extend, note) are carried out at once; the rest are queued, and the watch asks
for them every poll (:meth:`Conductor.steer`).

After every drill event the running inject is checkpointed
(:mod:`pfdrill.drill.checkpoint`). A conductor started on a game day whose
record says an inject is running takes it over from that checkpoint
(lease, snapshot, fault), carries on measuring on the same clock, and
restores it in the end like any other. SIGINT/SIGTERM restore the running
inject and stop the process (the game day itself can be resumed); only
``detach`` (or a crash) leaves an inject running for a successor.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable

from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.interrupts import DrillInterrupted, interrupts_raise
from pfdrill.drill.live import LiveJournal
from pfdrill.drill.observer import BaseObserver
from pfdrill.drill.ports import Directive, IncidentLog, Steer
from pfdrill.drill.sequencer import Sequencer
from pfdrill.gameday import machine
from pfdrill.gameday.store import StateStore
from pfdrill.model.checkpoint import Checkpoint
from pfdrill.model.drill import DrillSpec
from pfdrill.model.gameday import Action, Command, GameDayState, GameDayStatus, InjectStatus, Role
from pfdrill.model.live import LiveEvent, LiveKind
from pfdrill.model.phases import Injection, Watch
from pfdrill.model.result import DrillResult
from pfdrill.model.timeline import PhaseRecord, TimelineEvent
from pfdrill.model.watch import Measure, WatchPlan

InjectEnd = tuple[InjectStatus, str]
SETTLE_POLL_S = 0.5
_STOPS = {Action.STOP: (InjectStatus.ENDED, "stopped by the facilitator"),
          Action.ABORT: (InjectStatus.ABORTED, "aborted by the facilitator"),
          Action.END: (InjectStatus.ENDED, "the facilitator ended the game day"),
          Action.DETACH: (InjectStatus.RUNNING, "left running for a restarted process")}


def describe(cmd: Command, state: GameDayState) -> str:
    """The line a live view shows for a command (notes show themselves)."""
    name = cmd.drill or state.current or ""
    return {
        Action.INJECT: f"{name} starting", Action.PAUSE: f"{name} paused",
        Action.RESUME: f"{name} resumed",
        Action.EXTEND: f"{name}: +{cmd.seconds:g} s for {cmd.measure or 'every measure'}",
        Action.HINT: f"hint given for {name}", Action.REVEAL: f"{name} revealed",
    }.get(cmd.action, "")


class _Keeper(BaseObserver):
    """Checkpoints the running inject after every event; passes the watch's progress on."""

    def __init__(self, conductor: Conductor) -> None:
        self._c = conductor

    def event(self, spec: DrillSpec, event: TimelineEvent) -> None:
        self._c.checkpoint()

    def phase_completed(self, spec: DrillSpec, record: PhaseRecord) -> None:
        self._c.checkpoint()


class Conductor:
    def __init__(self, store: StateStore, env: DrillEnvironment, *, journal: LiveJournal,
                 log: IncidentLog, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.env = env
        self.journal = journal
        self.log = log
        self._clock = clock
        self._queue: queue.Queue[Command] = queue.Queue()
        self._lock = threading.Lock()
        self.seq: Sequencer | None = None
        self._stopped: InjectEnd | None = None
        self._ending = False
        self.detached = False
        self._seen_watch: Watch | None = None
        journal.redact(env.redactions())

    @property
    def state(self) -> GameDayState:
        return self.store.state

    # --- the control API (another thread) ----------------------------------------------------
    def command(self, cmd: Command, role: Role) -> str:
        with self._lock:
            state = self.state
            machine.check(state, cmd, role)
            wall = self._clock()
            if cmd.action in machine.IMMEDIATE:
                self.store.update(lambda s: machine.apply(s, cmd, wall, role),
                                  describe(cmd, state))
                return f"{cmd.action.value}: done"
            if cmd.action is Action.INJECT:  # claimed now, so a second one is refused
                self.store.update(lambda s: machine.starting(s, cmd.drill, wall),
                                  describe(cmd, state))
            self._queue.put(cmd)
            return f"{cmd.action.value}: accepted"

    # --- the watch asks what the facilitator wants --------------------------------------------
    def steer(self) -> Steer:
        roll = False
        while True:
            try:
                cmd = self._queue.get_nowait()
            except queue.Empty:
                break
            if cmd.action is Action.ROLLBACK:
                roll = True
            elif cmd.action in _STOPS:
                self._stopped = _STOPS[cmd.action]
                self._ending = self._ending or cmd.action is Action.END
                self.detached = self.detached or cmd.action is Action.DETACH
                return Steer(Directive.STOP, self._stopped[1])
        if roll:
            return Steer(Directive.ROLL_BACK, "the facilitator says the root cause is fixed")
        return Steer()

    # --- the main loop --------------------------------------------------------------------------
    def run(self) -> GameDayState:
        """Play until the game day ends (or is detached); SIGINT/SIGTERM propagate, restored."""
        with interrupts_raise():
            self._resume()
            while self.state.status is not GameDayStatus.FINISHED and not self.detached:
                if self._ending:
                    self._end()
                    break
                try:
                    cmd = self._queue.get(timeout=0.5)
                except queue.Empty:
                    continue
                if cmd.action is Action.INJECT:
                    self._play(cmd.drill)
                elif cmd.action is Action.END:
                    self._end()
                elif cmd.action is Action.DETACH:
                    self.detached = True
                # ROLLBACK/STOP/ABORT with nothing running: the inject ended meanwhile
        return self.state

    def _end(self) -> None:
        self.store.update(lambda s: machine.end(s, self._clock()), "the game day has ended")

    def _resume(self) -> None:
        running = self.state.running
        if running is None:
            return
        cp = self.store.dir.checkpoint()
        if cp is None or cp.drill != running.name:
            wall = self._clock()
            self.store.update(lambda s: machine.finished(
                s, running.name, InjectStatus.ABORTED, "the process died before the inject "
                "held anything", wall, restored=None), f"{running.name} could not be resumed")
            return
        self._play(running.name, resume=cp)

    # --- one inject -------------------------------------------------------------------------------
    def _play(self, name: str, resume: Checkpoint | None = None) -> None:
        inject = self.state.plan.inject(name)
        assert inject is not None  # checked when the command came in
        self._stopped, self._seen_watch = None, None
        self.seq = seq = Sequencer(inject.drill, self.env, run_id=self.state.id,
                                   observers=[self.journal, _Keeper(self)], resume=resume)
        interrupted: DrillInterrupted | None = None
        try:
            outcome = self._phases(seq, name, resume)
        except DrillInterrupted as exc:
            interrupted, outcome = exc, (InjectStatus.ABORTED, f"interrupted by {exc.signame}")
        if self.detached and interrupted is None:
            self.checkpoint()
            self.seq = None
            return  # the inject stays held; a restarted conductor takes it over
        result: DrillResult | None
        try:
            result = seq.close()
        except DrillInterrupted as exc:  # a signal during restore: re-raised once restored
            interrupted = interrupted or exc
            result = seq.result
        self._finish(name, outcome, result)
        if interrupted is not None:
            raise interrupted
        if self._ending:
            self._end()

    def _phases(self, seq: Sequencer, name: str, resume: Checkpoint | None) -> InjectEnd:
        inject = self.state.plan.inject(name)
        assert inject is not None
        if resume is not None:
            took = seq.take_over()
            if not took.status.ok:
                return InjectStatus.ABORTED, f"could not be resumed: {took.reason}"
            inj = seq.rec.latest(Injection)
            if inj is None or inj.proof is None or not inj.proof.proven:
                return (InjectStatus.ABORTED, "the game day's process died while the fault was "
                        "being injected")
        else:
            pre = seq.preflight()
            if not pre.status.ok:
                return InjectStatus.NOT_STARTED, f"preflight {pre.status.value}: {pre.reason}"
            if self.steer().directive is Directive.STOP and self._stopped is not None:
                return self._stopped
            inj_rec = seq.inject()
            if not inj_rec.status.ok:
                return InjectStatus.NOT_STARTED, f"injection {inj_rec.status.value}: " \
                                                 f"{inj_rec.reason}"
            t0, at, incident = seq.rec.t0_wall.timestamp(), seq.ctx.injected_at, seq.ctx.incident_id
            self.store.update(lambda s: machine.injected(
                s, name, t0_wall=t0, injected_at=at or 0.0, incident_id=incident),
                f"{name} injected")
        spec = inject.drill
        plan = WatchPlan(alerts=spec.expected_alerts, mitigation=spec.mitigation,
                         recovery=spec.recovery,
                         rollback_when_mitigated=inject.rollback_when_mitigated)
        st = self.state.inject(name)
        budget = st.budget(inject, Measure.RECOVERY) if st else inject.budget(Measure.RECOVERY)
        record = seq.watch(plan, self.log, self, within=inject.timebox_s, budget_s=budget)
        self._measured()
        watch = seq.rec.latest(Watch)
        if watch is not None and watch.reached(Measure.RECOVERY) is not None:
            return InjectStatus.RECOVERED, self._settle(inject.settle_s)
        if self._stopped is not None:
            return self._stopped
        return InjectStatus.ENDED, watch.ended if watch and watch.ended else record.reason

    def _settle(self, settle_s: float) -> str:
        """Recovered: the room may still be finishing the runbook. Restoring under their
        hands would undo (and misreport) their last steps, so wait for the facilitator's
        stop, or ``settle_s`` at the latest."""
        clock = self.env.clock
        deadline = clock.monotonic() + settle_s
        while clock.monotonic() < deadline:
            if self.steer().directive is Directive.STOP and self._stopped is not None:
                return f"recovered; {self._stopped[1]}"
            clock.sleep(min(SETTLE_POLL_S, max(0.0, deadline - clock.monotonic())))
        return f"recovered; restored {settle_s:g} s later"

    def _finish(self, name: str, outcome: InjectEnd, result: DrillResult | None) -> None:
        self._measured()
        status, reason = outcome
        restore = result.restore if result else None
        if result is not None:
            self.store.dir.save_result(result)
        self.store.dir.clear_checkpoint()
        detail = "" if restore is None else (restore.reason or "; ".join(restore.actions))
        ok = None if restore is None else restore.ok
        wall = self._clock()
        self.store.update(lambda s: machine.finished(s, name, status, reason, wall, restored=ok,
                                                     detail=detail),
                          f"{name}: {status.value.replace('_', ' ')} ({reason}); "
                          + ("restored" if ok else "restore incomplete" if ok is False
                             else "nothing to restore"))
        self.seq = None

    # --- what the drill tells us ------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Write the running inject down for a successor; pass the watch's progress on."""
        seq = self.seq
        if seq is None or seq.result is not None:
            return
        self.store.dir.save_checkpoint(seq.checkpoint())
        self._measured()

    def _measured(self) -> None:
        seq = self.seq
        if seq is None:
            return
        watch = seq.rec.latest(Watch)
        if watch is None or watch == self._seen_watch:
            return
        before = self._seen_watch
        self._seen_watch = watch
        name = seq.spec.name
        injected_at = seq.ctx.injected_at or 0.0
        new = [m for m in watch.milestones if before is None or before.reached(m.measure) is None]
        message = "; ".join(f"{name}: {m.measure.value} reached {m.at - injected_at:.1f} s "
                            f"after the injection" for m in new)
        if before is not None and watch.rolled_back_at is not None \
                and before.rolled_back_at is None:
            message = "; ".join(filter(None, (message, f"{name}: fault rolled back")))
        self.store.update(lambda s: machine.measured(s, name, watch), message)


def announcer(journal: LiveJournal, clock: Callable[[], float] = time.time
              ) -> Callable[[GameDayState, str], None]:
    """Publishes every change of the game day's record to its live journal."""
    def announce(state: GameDayState, message: str) -> None:
        journal.publish(dataclasses.replace(
            LiveEvent(wall=clock(), run_id=state.id, kind=LiveKind.GAMEDAY), gameday=state,
            message=message))
    return announce
