"""Performance degradation: each decision made slower by a chosen percentage of the baseline.

The mean decision latency is measured first (``monitor_duration_seconds``,
sum over count, across watchers); then ConfigMap ``fabric-chaos`` makes every
decision slower — by sleeping (``latency``) or by spinning the CPU (``cpu``:
CPU contention, ``cpu_burn_ms``) — so that the mean lands ``percent`` % above
the *effective* baseline: the measured one, but never less than the latency
floor the alert rules use (``baseline_floors.latency_mean_seconds``). On a
3 ms fabric a 60% fault therefore adds 5 ms (to 8 ms, 60% over the 5 ms
floor), which is what the alert and the classifier measure against. The
runbook: 20–50% is SEV-3, above 50% SEV-2.

Proof: the live mean latency is at least the baseline plus the added time
(within the proof tolerance).
"""

from __future__ import annotations

from pfdrill.errors import EnvironmentProblem
from pfdrill.faults.base import Observation, Params, Recorder
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.metrics import baseline_floor, mean_latency_s
from pfdrill.faults.observe import PROVE_WINDOW_S, TOLERANCE
from pfdrill.faults.params import Param, ParamSpec
from pfdrill.faults.state import FaultState
from pfdrill.model.drill import ParamValue
from pfdrill.model.fabric import FABRIC

CONFIGMAP = FABRIC.chaos_config
KNOB = {"latency": "added_latency_ms", "cpu": "cpu_burn_ms"}
NUDGE = 20  # requests of our own per window, so the mean exists without other traffic


def effective_ms(baseline_ms: float) -> float:
    """The baseline the alert rules divide by: never below their latency floor."""
    return max(baseline_ms, 1000 * baseline_floor("latency_mean_seconds"))


def added_ms(baseline_ms: float, percent: float) -> float:
    """Time to add per decision so the mean is ``percent`` % above the effective baseline."""
    return effective_ms(baseline_ms) * (1 + percent / 100) - baseline_ms


def mean_ms(ctx: FaultContext, seconds: float) -> float | None:
    before, after = ctx.window(seconds, nudge=NUDGE)
    mean = mean_latency_s(before, after)
    return None if mean is None else mean * 1000


class PerformanceDegradation:
    kind = FaultKind.PERFORMANCE_DEGRADATION
    summary = "decisions made slower by a percentage of the baseline latency (sleep or CPU burn)"
    spec = ParamSpec((
        Param("percent", "added latency, % of the baseline mean (floored as the alert rules do)", default=60.0,
              low=0.0, high=100_000.0, low_open=True),
        Param("kind", "how the time is added", default="latency", choices=tuple(KNOB)),
        Param("baseline_latency_ms", "steady-state mean decision latency (a drill passes the "
              "baseline it published); absent: measured over baseline_window_s",
              low=0.0, high=100_000.0),
        Param("baseline_window_s", "seconds over which the baseline is measured", default=5.0,
              low=1.0, high=300.0),
    ))
    terms = ("latency", "performance", "degradation", "slow", "cpu")

    def validate(self, params: Params) -> dict[str, ParamValue]:
        return self.spec.resolve(self.kind.value, params)

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None:
        given = params.get("baseline_latency_ms")
        baseline = (float(given) if given is not None
                    else mean_ms(ctx, float(params["baseline_window_s"])))
        if baseline is None:
            raise EnvironmentProblem(f"fault {self.kind.value}: no decisions in the baseline "
                                     "window, so there is no latency to degrade")
        added = added_ms(baseline, float(params["percent"]))
        rec.measure("baseline_latency_ms", baseline)
        rec.measure("added_ms", added)
        rec.set_configmap(CONFIGMAP, {KNOB[str(params["kind"])]: f"{added:.4f}"})

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation:
        baseline = state.measured.get("baseline_latency_ms", 0.0)
        percent = float(state.params["percent"])
        added = state.measured.get("added_ms", added_ms(baseline, percent))
        live = mean_ms(ctx, PROVE_WINDOW_S)
        if live is None:
            return Observation(False, "no decisions to measure")
        want = baseline + TOLERANCE * added
        effective = effective_ms(baseline)
        change = (live / effective - 1) * 100
        return Observation(live >= want,
                           f"mean decision latency {live:.3f} ms vs baseline {baseline:.3f} ms, "
                           f"{change:+.0f}% of the effective {effective:.3f} ms "
                           f"(injected +{percent:g}%, +{added:.3f} ms per decision)")
