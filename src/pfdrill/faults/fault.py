"""A fault instance: validate, inject, prove, roll back — the drill engine's ``Fault``.

:class:`InjectableFault` wraps a :class:`~pfdrill.faults.base.Driver` with what
every fault needs: the blast-radius guard (allowed context, opted-in
namespace) before any change, one active fault per namespace, the state file
that makes rollback work from any later process, and an automatic rollback
when injection fails part-way. :class:`Catalog` hands them out by name.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from pfdrill.errors import PfdrillError, SafetyRefused
from pfdrill.faults.base import Driver, Observation, Recorder, undo
from pfdrill.faults.change import Change
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.registry import DRIVERS
from pfdrill.faults.state import FaultState, Phase, check_key, now_wall
from pfdrill.model.drill import ParamValue
from pfdrill.model.evidence import ChaosJournal, JournalActivity

T = TypeVar("T")
Params = Mapping[str, ParamValue]


class InjectableFault:
    def __init__(self, kind: FaultKind, ctx: FaultContext, key: str | None = None) -> None:
        self.kind = kind
        self.ctx = ctx
        self.driver: Driver = DRIVERS[kind]
        self.key = check_key(key or kind.value)
        self._log: list[JournalActivity] = []
        self._rollbacks: list[JournalActivity] = []

    @property
    def name(self) -> str:
        return self.kind.value

    def _timed(self, name: str, kind: str, fn: Callable[[], T], out: list[JournalActivity],
               describe: Callable[[T], str] = lambda r: "") -> T:
        started = time.monotonic()
        try:
            result = fn()
        except Exception as exc:
            out.append(JournalActivity(name, kind, "failed", round(time.monotonic() - started, 3), str(exc)))
            raise
        out.append(JournalActivity(name, kind, "succeeded", round(time.monotonic() - started, 3),
                                   describe(result)))
        return result

    # --- the Fault protocol --------------------------------------------------------------
    def validate(self, params: Params) -> None:
        self.driver.validate(params)

    def state(self) -> FaultState | None:
        return self.ctx.store.load(self.ctx.context, self.ctx.namespace, self.key)

    def plan(self, params: Params) -> list[Change]:
        """What :meth:`inject` would change, read from the cluster; nothing is changed."""
        resolved = self.driver.validate(params)
        self.ctx.check_safe()
        rec = Recorder(self.ctx, self._fresh_state(resolved), dry_run=True)
        self.driver.inject(self.ctx, resolved, rec)
        return rec.planned

    def _fresh_state(self, params: dict[str, ParamValue]) -> FaultState:
        return FaultState(key=self.key, fault=self.name, params=params, context=self.ctx.context,
                          namespace=self.ctx.namespace, phase=Phase.INJECTING,
                          injected_wall=now_wall())

    def inject(self, params: Params) -> None:
        self._timed(f"inject {self.name}", "action", lambda: self._inject(params), self._log,
                    lambda st: "; ".join(c.describe() for c in st.changes))

    def _inject(self, params: Params) -> FaultState:
        resolved = self.driver.validate(params)
        self.ctx.check_safe()
        active = self.ctx.store.active(self.ctx.context, self.ctx.namespace)
        if active:
            other = active[0]
            raise SafetyRefused(
                f"fault {other.fault} (key {other.key}) is still injected in "
                f"{self.ctx.context}/{self.ctx.namespace} since {other.injected_wall}; "
                f"roll it back first (pfdrill fault rollback --key {other.key})")
        store = self.ctx.store
        state = self._fresh_state(resolved)
        store.save(state)
        rec = Recorder(self.ctx, state, store=store)
        try:
            self.driver.inject(self.ctx, resolved, rec)
        except BaseException as exc:
            # Half an injection is worse than none: undo what was journalled, then report.
            try:
                self._undo(rec.state, why=f"injection failed: {exc}")
            except PfdrillError as undo_exc:
                raise undo_exc from exc
            raise
        done = dataclasses.replace(rec.state, phase=Phase.INJECTED)
        store.save(done)
        return done

    def prove(self) -> Observation:
        return self._timed(f"prove {self.name}", "probe", self._prove, self._log,
                           lambda o: f"{'proven' if o.proven else 'not yet'}: {o.detail}")

    def _prove(self) -> Observation:
        state = self.state()
        if state is None or not state.active:
            return Observation(False, f"fault {self.name} (key {self.key}) is not injected")
        return self.driver.prove(self.ctx, state)

    def rollback(self) -> None:
        self.rollback_actions()

    def rollback_actions(self) -> list[str]:
        """Undo what inject changed; what was done. Idempotent, and a no-op before inject."""
        return self._timed(f"rollback {self.name}", "action", self._rollback, self._rollbacks,
                           lambda acts: "; ".join(acts) or "nothing to restore")

    def _rollback(self) -> list[str]:
        state = self.state()
        if state is None or not state.active:
            return []
        self.ctx.check_safe()
        return self._undo(state, why="rollback")

    def _undo(self, state: FaultState, why: str) -> list[str]:
        actions = undo(self.ctx, state.changes)
        self.ctx.store.save(dataclasses.replace(
            state, phase=Phase.ROLLED_BACK, rolled_back_wall=now_wall(),
            rollback_actions=tuple(actions) or (f"nothing to restore ({why})",)))
        return actions

    def root_cause_terms(self) -> Sequence[str]:
        return self.driver.terms

    def journal(self) -> ChaosJournal | None:
        if not self._log and not self._rollbacks:
            return None
        failed = any(a.status != "succeeded" for a in (*self._log, *self._rollbacks))
        return ChaosJournal(experiment=f"pfdrill fault {self.name} ({self.key})",
                            status="failed" if failed else "completed", steady_state_met=None,
                            activities=tuple(self._log), rollbacks=tuple(self._rollbacks))


class Catalog:
    """The drill engine's ``FaultCatalog`` over the real cluster."""

    def __init__(self, ctx: FaultContext, key_prefix: str = "drill") -> None:
        self.ctx = ctx
        self.key_prefix = key_prefix

    def names(self) -> Sequence[str]:
        return [k.value for k in FaultKind]

    def create(self, name: str) -> InjectableFault:
        kind = FaultKind.parse(name)
        return InjectableFault(kind, self.ctx, key=f"{self.key_prefix}-{kind.value}")


def describe_params(kind: FaultKind) -> list[str]:
    """One line per parameter, for ``pfdrill fault list``."""
    spec = DRIVERS[kind].spec
    out = []
    for p in spec.params:
        default = "" if p.default is None else f" (default {p.default})"
        out.append(f"{p.name}: {p.describe_range()}{default} — {p.help}")
    return out


def check_params(name: str, params: Params) -> dict[str, ParamValue]:
    """Validate ``params`` for the fault ``name``; InvalidInput for the name or a parameter."""
    return DRIVERS[FaultKind.parse(name)].validate(params)
