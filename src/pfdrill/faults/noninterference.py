"""A burst of non-interference monitor rejects.

locust sends otherwise compliant requests whose certificates give the
principal the clearance ``public``: every one reads data labelled above that
clearance, so the NI monitor rejects it (and nothing earlier in the pipeline
does). The runbook's SEV-2 line is more than 1 NI reject per second.

Proof: NI rejects arrive at the injected rate.
"""

from __future__ import annotations

from pfdrill.faults import traffic
from pfdrill.faults.base import Observation, Params, Recorder
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.metrics import rate
from pfdrill.faults.observe import PROVE_WINDOW_S, TOLERANCE
from pfdrill.faults.params import Param, ParamSpec
from pfdrill.faults.state import FaultState
from pfdrill.load.plan import TrafficKind
from pfdrill.model import metrics as m
from pfdrill.model.drill import ParamValue


class NiRejectBurst:
    kind = FaultKind.NI_REJECT_BURST
    summary = "requests that break the non-interference rule arrive at a chosen rate"
    spec = ParamSpec((
        Param("rate", "NI-violating requests per second", default=5.0,
              low=0.0, high=2000.0, low_open=True),
    ))
    terms = ("non-interference", "ni monitor", "ni", "label", "clearance")

    def validate(self, params: Params) -> dict[str, ParamValue]:
        return self.spec.resolve(self.kind.value, params)

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None:
        per_s = float(params["rate"])
        traffic.start(rec, self.kind.value,
                      [({TrafficKind.COMPLIANT: per_s}, traffic.public_clearance(ctx.authority()))],
                      f"{per_s:g} req/s from principals with clearance public")

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation:
        per_s = float(state.params["rate"])
        before, after = ctx.window(PROVE_WINDOW_S, nudge=0)
        live = rate(before, after, m.NI_REJECTS.name)
        return Observation(live >= TOLERANCE * per_s,
                           f"NI monitor rejects {live:.2f}/s (injected {per_s:g}/s)")
