"""The game day's state machine: which command is allowed when, and what each change does.

Pure: no I/O, no clock (times come in as ``wall`` arguments). :func:`check`
refuses a command that makes no sense now with an
:class:`~pfdrill.errors.InvalidInput` saying why, before anything is queued;
:func:`apply` carries out the commands that only change the record (pause,
hint, reveal, note...); the conductor (:mod:`pfdrill.gameday.conductor`)
carries out the others through the sequencer and reports back with
:func:`starting`, :func:`injected`, :func:`measured` and :func:`finished`.
"""

from __future__ import annotations

import dataclasses

from pfdrill.errors import InvalidInput
from pfdrill.model.gameday import (
    Action,
    Command,
    Extension,
    GameDayPlan,
    GameDayState,
    GameDayStatus,
    Hint,
    InjectState,
    InjectStatus,
    Note,
    Pause,
    Role,
)
from pfdrill.model.phases import Watch
from pfdrill.model.watch import Measure

# Commands that change only the game day's record; the rest need the conductor.
IMMEDIATE = frozenset({Action.PAUSE, Action.RESUME, Action.EXTEND, Action.HINT, Action.REVEAL,
                       Action.NOTE})
MAX_EXTENSION_S = 24 * 3600.0


def new(game_id: str, plan: GameDayPlan, wall: float) -> GameDayState:
    return GameDayState(id=game_id, plan=plan, started_wall=wall,
                        injects=tuple(InjectState(name=i.name) for i in plan.injects))


def _running(state: GameDayState, what: str) -> InjectState:
    current = state.running
    if current is None or not current.status.active:
        raise InvalidInput(f"no inject is running to {what}")
    return current


def _measures(text: str) -> tuple[Measure, ...]:
    if not text:
        return tuple(Measure)
    try:
        return (Measure(text),)
    except ValueError:
        raise InvalidInput(f"unknown measure {text!r} (one of "
                           f"{', '.join(m.value for m in Measure)})") from None


def check(state: GameDayState, cmd: Command, role: Role = Role.FACILITATOR) -> None:
    """Refuse a command that is not allowed now, or not for this role."""
    allowed = {Action.NOTE: (Role.FACILITATOR, Role.OBSERVER)}.get(cmd.action,
                                                                  (Role.FACILITATOR,))
    if role not in allowed:
        raise InvalidInput(f"{cmd.action.value} is for the "
                           f"{' or '.join(r.value for r in allowed)}, not for {role.value}s")
    if state.status is GameDayStatus.FINISHED:
        raise InvalidInput("the game day has ended")
    _CHECKS[cmd.action](state, cmd)


def _check_inject(state: GameDayState, cmd: Command) -> None:
    if state.plan.inject(cmd.drill) is None:
        raise InvalidInput(f"no inject {cmd.drill!r} in this game day (has: "
                           f"{', '.join(state.plan.names)})")
    if state.current is not None:
        raise InvalidInput(f"inject {state.current!r} is still running: stop or abort it first")
    st = state.inject(cmd.drill)
    if st is not None and st.status not in (InjectStatus.PENDING, InjectStatus.NOT_STARTED):
        raise InvalidInput(f"inject {cmd.drill!r} has been played ({st.status.value})")


def _check_pause(state: GameDayState, cmd: Command) -> None:
    current = _running(state, "pause")
    if current.status is not InjectStatus.RUNNING:
        raise InvalidInput("the inject is still starting: pause it once it runs")
    if current.paused:
        raise InvalidInput("the inject is already paused")


def _check_resume(state: GameDayState, cmd: Command) -> None:
    if not _running(state, "resume").paused:
        raise InvalidInput("the inject is not paused")


def _check_extend(state: GameDayState, cmd: Command) -> None:
    _running(state, "extend")
    _measures(cmd.measure)
    if not 0 < cmd.seconds <= MAX_EXTENSION_S:
        raise InvalidInput(f"extend by more than 0 and at most {MAX_EXTENSION_S:g} seconds, "
                           f"not {cmd.seconds:g}")


def _check_hint(state: GameDayState, cmd: Command) -> None:
    current = _running(state, "hint at")
    plan = state.plan.inject(current.name)
    hints = plan.hints if plan else ()
    if cmd.hint is not None:
        if not 1 <= cmd.hint <= len(hints):
            raise InvalidInput(f"inject {current.name!r} has {len(hints)} prepared hint(s), "
                               f"no hint {cmd.hint}")
    elif not cmd.text.strip():
        raise InvalidInput("a hint needs a text or the number of a prepared hint")


def _check_reveal(state: GameDayState, cmd: Command) -> None:
    name = cmd.drill or state.current
    if not name or state.plan.inject(name) is None:
        raise InvalidInput("say which inject to reveal" if not name else
                           f"no inject {name!r} in this game day")
    st = state.inject(name)
    if st is not None and st.revealed:
        raise InvalidInput(f"inject {name!r} is revealed already")


def _check_note(state: GameDayState, cmd: Command) -> None:
    if not cmd.text.strip():
        raise InvalidInput("a note needs a text")


def _check_rollback(state: GameDayState, cmd: Command) -> None:
    current = _running(state, "roll back")
    if current.status is not InjectStatus.RUNNING:
        raise InvalidInput("the fault is still being injected")
    if current.rolled_back_wall is not None:
        raise InvalidInput("the fault is rolled back already")


def _check_running(state: GameDayState, cmd: Command) -> None:
    _running(state, cmd.action.value)


def _always(state: GameDayState, cmd: Command) -> None:
    return None


_CHECKS = {
    Action.INJECT: _check_inject, Action.PAUSE: _check_pause, Action.RESUME: _check_resume,
    Action.EXTEND: _check_extend, Action.HINT: _check_hint, Action.REVEAL: _check_reveal,
    Action.NOTE: _check_note, Action.ROLLBACK: _check_rollback, Action.STOP: _check_running,
    Action.ABORT: _check_running, Action.END: _always, Action.DETACH: _always,
}


def apply(state: GameDayState, cmd: Command, wall: float,
          role: Role = Role.FACILITATOR) -> GameDayState:
    """Carry out a command of :data:`IMMEDIATE` (checked first)."""
    if cmd.action not in IMMEDIATE:
        raise ValueError(f"{cmd.action.value} is carried out by the conductor")
    check(state, cmd, role)
    if cmd.action is Action.NOTE:
        return dataclasses.replace(state, notes=(*state.notes, Note(
            wall=wall, author=cmd.author.strip() or role.value, role=role,
            text=cmd.text.strip(), inject=state.current or "")))
    if cmd.action is Action.REVEAL:
        st = state.inject(cmd.drill or state.current or "")
        assert st is not None  # checked
        return state.with_inject(dataclasses.replace(st, revealed=True))
    current = state.running
    assert current is not None  # checked: every other immediate command needs one
    if cmd.action is Action.PAUSE:
        changed = dataclasses.replace(current, pauses=(*current.pauses, Pause(start=wall)))
    elif cmd.action is Action.RESUME:
        changed = dataclasses.replace(current, pauses=(
            *current.pauses[:-1], dataclasses.replace(current.pauses[-1], end=wall)))
    elif cmd.action is Action.EXTEND:
        changed = dataclasses.replace(current, extensions=(*current.extensions, *(
            Extension(measure=m, seconds=cmd.seconds, wall=wall)
            for m in _measures(cmd.measure))))
    else:  # HINT
        plan = state.plan.inject(current.name)
        text = (plan.hints[cmd.hint - 1] if plan is not None and cmd.hint is not None
                else cmd.text.strip())
        changed = dataclasses.replace(current, hints=(*current.hints, Hint(wall=wall,
                                                                            text=text)))
    return state.with_inject(changed)


# --- what the conductor reports -----------------------------------------------------------
def _inject(state: GameDayState, name: str) -> InjectState:
    st = state.inject(name)
    if st is None:
        raise InvalidInput(f"no inject {name!r} in this game day")
    return st


def starting(state: GameDayState, name: str, wall: float) -> GameDayState:
    check(state, Command(Action.INJECT, drill=name))
    st = dataclasses.replace(_inject(state, name), status=InjectStatus.STARTING,
                             started_wall=wall, t0_wall=None, injected_at=None, ended="",
                             ended_wall=None, restored=None, restore_detail="")
    return dataclasses.replace(state.with_inject(st), current=name)


def injected(state: GameDayState, name: str, *, t0_wall: float, injected_at: float,
             incident_id: str) -> GameDayState:
    st = dataclasses.replace(_inject(state, name), status=InjectStatus.RUNNING, t0_wall=t0_wall,
                             injected_at=injected_at, incident_id=incident_id)
    return state.with_inject(st)


def measured(state: GameDayState, name: str, watch: Watch) -> GameDayState:
    """What the watch phase has measured so far (it keeps a record at every milestone)."""
    st = _inject(state, name)
    rolled = st.rolled_back_wall
    if watch.rolled_back_at is not None and rolled is None and st.t0_wall is not None:
        rolled = st.t0_wall + watch.rolled_back_at
    return state.with_inject(dataclasses.replace(
        st, milestones=watch.milestones, declaration=watch.declaration,
        rolled_back_wall=rolled))


def finished(state: GameDayState, name: str, status: InjectStatus, reason: str, wall: float,
             *, restored: bool | None, detail: str = "") -> GameDayState:
    if not status.finished:
        raise ValueError(f"{status.value} is not an end state")
    st = _inject(state, name)
    pauses = st.pauses
    if st.paused:  # an inject that ends paused: the pause ends with it
        pauses = (*pauses[:-1], dataclasses.replace(pauses[-1], end=wall))
    st = dataclasses.replace(st, status=status, ended=reason, ended_wall=wall, pauses=pauses,
                             restored=restored, restore_detail=detail)
    return dataclasses.replace(state.with_inject(st),
                               current=None if state.current == name else state.current)


def end(state: GameDayState, wall: float) -> GameDayState:
    if state.current is not None:
        raise InvalidInput(f"inject {state.current!r} is still running")
    return dataclasses.replace(state, status=GameDayStatus.FINISHED, ended_wall=wall)
