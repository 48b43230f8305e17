"""Break-glass left on: ``enforcement_mode=break_glass`` after the emergency is over.

Every finding is allowed and logged ``BREAK_GLASS OVERRIDE``; the bridge
guarantee no longer holds. Proof: every watcher reports ``break_glass`` in effect.
"""

from __future__ import annotations

from pfdrill.faults.base import Observation, Params, Recorder
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.observe import mode_in_effect
from pfdrill.faults.params import ParamSpec
from pfdrill.faults.state import FaultState
from pfdrill.model.drill import ParamValue
from pfdrill.model.fabric import FABRIC

MODE = "break_glass"


class BreakGlassLeftOn:
    kind = FaultKind.BREAK_GLASS_LEFT_ON
    summary = "enforcement_mode left at break_glass: findings are logged and allowed"
    spec = ParamSpec()
    terms = ("break_glass", "break-glass", "break glass", "override")

    def validate(self, params: Params) -> dict[str, ParamValue]:
        return self.spec.resolve(self.kind.value, params)

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None:
        rec.set_configmap(FABRIC.policy_config, {"enforcement_mode": MODE})

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation:
        return mode_in_effect(ctx, MODE)
