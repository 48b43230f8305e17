"""Sidecar pod loss: sidecar-watcher replicas go away.

``scaled_down`` lowers the Deployment by ``count`` replicas (all of them is
the runbook's "all sidecars down"); rollback scales it back. ``deleted``
deletes ``count`` running pods once — the Deployment replaces them, so
rollback has nothing to restore and the proof looks at those very pods.

Proof: no more than the intended number of watcher pods remain
(``scaled_down``), or the deleted pods are gone (``deleted``).
"""

from __future__ import annotations

from pfdrill.errors import InvalidInput
from pfdrill.faults.base import Observation, Params, Recorder
from pfdrill.faults.change import ChangeKind
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.params import Param, ParamSpec
from pfdrill.faults.state import FaultState
from pfdrill.model.drill import ParamValue
from pfdrill.model.fabric import FABRIC

DEPLOYMENT = FABRIC.watcher
SELECTOR = f"app={DEPLOYMENT}"


class SidecarPodLoss:
    kind = FaultKind.SIDECAR_POD_LOSS
    summary = "sidecar-watcher pods are lost (replicas scaled down, or pods deleted)"
    spec = ParamSpec((
        Param("variant", "how the pods are lost", default="scaled_down",
              choices=("scaled_down", "deleted")),
        Param("count", "how many pods", default=1, low=1, high=1000, integer=True),
    ))
    terms = ("sidecar", FABRIC.watcher, "pod", "replica")

    def validate(self, params: Params) -> dict[str, ParamValue]:
        return self.spec.resolve(self.kind.value, params)

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None:
        count = int(params["count"])
        if params["variant"] == "scaled_down":
            replicas = ctx.cluster.get_deployment(ctx.namespace, DEPLOYMENT).replicas
            if count > replicas:
                raise InvalidInput(f"fault {self.kind.value}: count={count} is more than the "
                                   f"{replicas} replicas of {DEPLOYMENT}")
            rec.scale(DEPLOYMENT, replicas - count)
            rec.measure("replicas_left", replicas - count)
            return
        running = sorted(p.name for p in ctx.cluster.list_pods(ctx.namespace, SELECTOR) if not p.deleting)
        if count > len(running):
            raise InvalidInput(f"fault {self.kind.value}: count={count} is more than the "
                               f"{len(running)} running {DEPLOYMENT} pods")
        rec.delete_pods(DEPLOYMENT, running[:count])

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation:
        pods = [p for p in ctx.cluster.list_pods(ctx.namespace, SELECTOR) if not p.deleting]
        if state.params["variant"] == "scaled_down":
            left = int(state.measured.get("replicas_left", 0))
            spec = ctx.cluster.get_deployment(ctx.namespace, DEPLOYMENT).replicas
            return Observation(spec == left and len(pods) <= left,
                               f"{DEPLOYMENT} wants {spec} replicas, {len(pods)} pods running "
                               f"(fault leaves {left})")
        gone = {n for c in state.changes if c.kind is ChangeKind.PODS_DELETED for n in c.pods}
        still = sorted(gone & {p.name for p in pods})
        return Observation(bool(gone) and not still,
                           f"deleted {', '.join(sorted(gone))}; still running: {', '.join(still) or 'none'}")
