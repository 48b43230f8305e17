"""High reject rate — the runbook's third named fault.

The baseline reject rate is measured first (rejections of every reason, per
second, over ``baseline_window_s``), floored at the alert rules' baseline floor
(a near-silent steady state is not "infinitely many times normal"). Then
locust adds violating requests (DFA, permit and non-interference violations,
all rejected in enforce mode) so that the total reaches ``multiplier`` times
the baseline: 3x is SEV-3 territory, 12x and 50x SEV-2.

Proof: the live reject rate, read from the watchers, reaches the target
multiple (within the proof tolerance).
"""

from __future__ import annotations

import dataclasses

from pfdrill.errors import InvalidInput
from pfdrill.faults import traffic
from pfdrill.faults.base import Observation, Params, Recorder
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.metrics import baseline_floor, reject_total_delta
from pfdrill.faults.observe import PROVE_WINDOW_S, TOLERANCE
from pfdrill.faults.params import Param, ParamSpec
from pfdrill.faults.state import FaultState
from pfdrill.load.plan import TrafficKind
from pfdrill.model.drill import ParamValue


@dataclasses.dataclass(frozen=True)
class Aim:
    """Where the fault aims: the effective baseline, the target rate and the traffic to add."""

    baseline: float  # the measured (or published) rate, floored as the alert rules floor it
    target: float  # multiplier x baseline
    extra: float  # violating requests/s to add on top of what is measured


def aim(multiplier: float, measured: float) -> Aim:
    """The arithmetic of :meth:`HighRejectRate.inject`, shared with the detection bound."""
    baseline = max(measured, baseline_floor("reject_rate"))
    target = multiplier * baseline
    return Aim(baseline, target, target - measured)


def reject_rate(ctx: FaultContext, seconds: float) -> float:
    before, after = ctx.window(seconds, nudge=0)
    span = after.at - before.at
    return reject_total_delta(before, after) / span if span > 0 else 0.0


class HighRejectRate:
    kind = FaultKind.HIGH_REJECT_RATE
    summary = "violating traffic drives the reject rate to a multiple of its measured baseline"
    spec = ParamSpec((
        Param("multiplier", "target reject rate as a multiple of the baseline", default=12.0,
              low=1.0, high=1000.0, low_open=True),
        Param("baseline_window_s", "seconds over which the baseline is measured", default=10.0,
              low=1.0, high=300.0),
        Param("baseline_rate", "steady-state rejects/s to multiply (a drill passes the baseline "
              "it published); absent: measured over baseline_window_s", low=0.0, high=100_000.0),
        Param("max_rate", "refuse if the violating traffic needed exceeds this (req/s)",
              default=2000.0, low=0.0, high=100_000.0, low_open=True),
    ))
    terms = ("reject", "reject rate", "violating", "violation")

    def validate(self, params: Params) -> dict[str, ParamValue]:
        return self.spec.resolve(self.kind.value, params)

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None:
        multiplier = float(params["multiplier"])
        given = params.get("baseline_rate")
        measured = (float(given) if given is not None
                    else reject_rate(ctx, float(params["baseline_window_s"])))
        aimed = aim(multiplier, measured)
        baseline, target, extra = aimed.baseline, aimed.target, aimed.extra
        if extra > float(params["max_rate"]):
            raise InvalidInput(
                f"fault {self.kind.value}: multiplier={multiplier:g} over a baseline of "
                f"{baseline:.2f} rejects/s needs {extra:.0f} violating req/s, above "
                f"max_rate={float(params['max_rate']):g}")
        rec.measure("baseline_reject_rate", measured)
        rec.measure("effective_baseline", baseline)
        rec.measure("target_reject_rate", target)
        rec.measure("violating_rate", extra)
        # DFA and permit violations only: NI-violating traffic at these rates would cross the
        # table's own NI-monitor row (> 1/s, SEV-2) and blur a reject-rate drill's severity.
        traffic.start(rec, self.kind.value, [({TrafficKind.VIOLATING: extra}, ctx.identities())],
                      f"{extra:.2f} violating req/s, DFA and permit violations "
                      f"(target {multiplier:g}x {baseline:.2f}/s, "
                      f"{'the published' if given is not None else 'a measured'} baseline)",
                      exclude=("violating:ni",))

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation:
        baseline = state.measured.get("effective_baseline", baseline_floor("reject_rate"))
        target = state.measured.get("target_reject_rate", 0.0)
        live = reject_rate(ctx, PROVE_WINDOW_S)
        multiple = live / baseline if baseline > 0 else 0.0
        return Observation(
            live >= TOLERANCE * target,
            f"reject rate {live:.2f}/s = {multiple:.1f}x the baseline {baseline:.2f}/s "
            f"(target {float(state.params['multiplier']):g}x = {target:.2f}/s)")
