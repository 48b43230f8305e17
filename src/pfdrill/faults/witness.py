"""Witness validation failures at a chosen fraction of the generated traffic.

locust sends ``rate`` requests per second: ``fraction`` of them carry a
tampered witness (a real signature over a different request), the rest are
compliant with valid witnesses. The runbook's SEV-2 line is 5%.

Proof: witness failures arrive at the injected rate.
"""

from __future__ import annotations

from pfdrill.faults import traffic
from pfdrill.faults.base import Observation, Params, Recorder
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.metrics import delta
from pfdrill.faults.observe import PROVE_WINDOW_S, TOLERANCE
from pfdrill.faults.params import Param, ParamSpec
from pfdrill.faults.state import FaultState
from pfdrill.load.plan import TrafficKind
from pfdrill.model import metrics as m
from pfdrill.model.drill import ParamValue


class WitnessFailures:
    kind = FaultKind.WITNESS_FAILURES
    summary = "a fraction of the traffic carries witnesses that do not validate"
    spec = ParamSpec((
        Param("fraction", "share of the generated requests with a tampered witness",
              default=0.5, low=0.0, high=1.0, low_open=True),
        Param("rate", "generated requests per second", default=20.0,
              low=0.0, high=2000.0, low_open=True),
    ))
    terms = ("witness",)

    def validate(self, params: Params) -> dict[str, ParamValue]:
        return self.spec.resolve(self.kind.value, params)

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None:
        fraction, rate = float(params["fraction"]), float(params["rate"])
        ids = ctx.identities()
        traffic.start(rec, self.kind.value,
                      [({TrafficKind.TAMPERED_WITNESS: fraction * rate,
                         TrafficKind.COMPLIANT: (1 - fraction) * rate}, ids)],
                      f"{rate:g} req/s, {fraction:.0%} with tampered witnesses")

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation:
        fraction, rate = float(state.params["fraction"]), float(state.params["rate"])
        before, after = ctx.window(PROVE_WINDOW_S, nudge=0)
        span = after.at - before.at
        failed = delta(before, after, m.WITNESS_FAILURES.name)
        checked = delta(before, after, m.WITNESS_VALIDATIONS.name)
        ratio = failed / checked if checked else 0.0
        return Observation(
            failed >= TOLERANCE * fraction * rate * span,
            f"{failed:g}/{checked:g} witnesses failed in {span:.1f}s ({ratio:.1%}; "
            f"injected {fraction * rate:g}/s)")
