"""Enforcement disabled by configuration drift: ``policy-config`` says ``disabled``.

The runbook's first SEV-1 row. Drift to ``monitor`` or ``shadow`` (deciding
but not rejecting) is a variant. Proof: every watcher reports the mode in
effect through its ``enforcement_mode`` gauge — the config reload happened,
not merely the ConfigMap edit.
"""

from __future__ import annotations

from pfdrill.faults.base import Observation, Params, Recorder
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.observe import mode_in_effect
from pfdrill.faults.params import Param, ParamSpec
from pfdrill.faults.state import FaultState
from pfdrill.model.drill import ParamValue
from pfdrill.model.fabric import FABRIC


class EnforcementDisabled:
    kind = FaultKind.ENFORCEMENT_DISABLED
    summary = "policy-config drifts to enforcement_mode=disabled (or monitor/shadow)"
    spec = ParamSpec((
        Param("mode", "the mode the configuration drifts to", default="disabled",
              choices=("disabled", "monitor", "shadow")),
    ))
    terms = ("enforcement", "enforcement_mode", "drift", "disabled")

    def validate(self, params: Params) -> dict[str, ParamValue]:
        return self.spec.resolve(self.kind.value, params)

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None:
        rec.set_configmap(FABRIC.policy_config, {"enforcement_mode": str(params["mode"])})

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation:
        return mode_in_effect(ctx, str(state.params["mode"]))
