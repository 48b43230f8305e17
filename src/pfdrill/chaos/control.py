"""A chaostoolkit control that keeps pfdrill scenarios honest under plain ``chaos run``.

Declared in every scenario (``"controls": [{"name": "pfdrill", "provider":
{"type": "python", "module": "pfdrill.chaos.control"}}]``), it:

- refuses, before anything runs, an experiment that breaks pfdrill's rules
  (:func:`pfdrill.chaos.scenario.check`: no steady-state hypothesis, an
  injection without rollback, rollbacks not forced) — the run ends
  ``interrupted`` with the reason and nothing is changed;
- fails the run when the steady state does not hold before the method
  (chaostoolkit itself would end it "completed", exit status 0);
- stops the method as soon as a pfdrill activity in it fails (an injection
  refused or half done, a fault never observed): chaostoolkit would otherwise
  carry on and let the run pass. With ``rollbacks.strategy: always`` the
  rollbacks still run, and the run ends ``interrupted`` (exit status 1).
"""

from __future__ import annotations

import threading
from typing import Any

from chaoslib.exceptions import InterruptExecution

from pfdrill.chaos import scenario
from pfdrill.errors import InvalidInput

PREFIX = "pfdrill.chaos."
_state = threading.local()


def before_experiment_control(context: dict[str, Any], **kwargs: Any) -> None:
    _state.method_started = False
    _state.in_method = False
    try:
        scenario.check(context, source=str(context.get("title") or "<experiment>"))
    except InvalidInput as exc:
        raise InterruptExecution(f"pfdrill: refusing to run: {exc}") from None


def after_experiment_control(context: dict[str, Any], state: dict[str, Any] | None = None,
                             **kwargs: Any) -> None:
    # chaostoolkit ends a run whose steady state does not hold *before* the method as
    # "completed" (exit status 0): nothing was tested, so the journal says "failed".
    if not isinstance(state, dict):
        return
    before = (state.get("steady_states") or {}).get("before")
    if isinstance(before, dict) and before.get("steady_state_met") is False \
            and state.get("status") == "completed":
        state["status"] = "failed"


def before_method_control(context: dict[str, Any], **kwargs: Any) -> None:
    _state.method_started = True
    _state.in_method = True


def after_method_control(context: dict[str, Any], **kwargs: Any) -> None:
    _state.in_method = False


def after_activity_control(context: dict[str, Any], state: dict[str, Any] | None = None,
                           **kwargs: Any) -> None:
    if not getattr(_state, "in_method", False) or not isinstance(state, dict):
        return
    provider = context.get("provider") if isinstance(context, dict) else None
    module = str((provider or {}).get("module", ""))
    if state.get("status") == "failed" and module.startswith(PREFIX):
        lines = state.get("exception") or []
        why = str(lines[-1]).strip() if lines else "failed"
        _state.in_method = False
        raise InterruptExecution(f"pfdrill: {context.get('name')!r} failed, stopping the method "
                                 f"(rollbacks follow): {why}")
