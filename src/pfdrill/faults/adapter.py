"""Policy adapter failure — the runbook's first named fault.

Variants, each combined with the watcher's ``adapter_failure_mode``
(``fail_closed``: requests needing a permit are rejected; ``fail_open``:
they pass unchecked, enforcement is effectively off):

- ``scaled_to_zero`` — the Deployment scaled to 0 replicas;
- ``killed`` — its pods deleted again and again (a background pod killer);
- ``errors`` — the adapter answers a share of permit calls with HTTP 500
  (``error_rate`` in ConfigMap ``policy-adapter-config``);
- ``slow`` — the adapter answers later than the watcher's ``adapter_timeout_ms``.

Proof: the watchers count failed adapter calls (``policy_adapter_errors_total``
rising; with fail_open also ``policy_adapter_fail_open_total``), plus the
variant's own mark (no adapter replica, pods deleted, the knob in place).
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.errors import InvalidInput
from pfdrill.faults import worker as workers
from pfdrill.faults.base import Observation, Params, Recorder
from pfdrill.faults.change import ChangeKind
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.metrics import adapter_error_delta, delta
from pfdrill.faults.observe import PROVE_WINDOW_S
from pfdrill.faults.params import Param, ParamSpec
from pfdrill.faults.state import FaultState
from pfdrill.model import metrics as m
from pfdrill.model.drill import ParamValue
from pfdrill.model.fabric import FABRIC

DEPLOYMENT = FABRIC.adapter
ADAPTER_CONFIG = FABRIC.adapter_config
DEFAULT_TIMEOUT_MS = 250


class Variant(enum.Enum):
    SCALED_TO_ZERO = "scaled_to_zero"
    KILLED = "killed"
    ERRORS = "errors"
    SLOW = "slow"


@dataclasses.dataclass(frozen=True)
class Settings:
    variant: Variant
    failure_mode: str
    error_rate: float
    added_latency_ms: float | None
    kill_interval_s: float

    @classmethod
    def of(cls, params: Params) -> Settings:
        latency = params.get("added_latency_ms")
        return cls(Variant(str(params["variant"])), str(params["failure_mode"]),
                   float(params["error_rate"]), float(latency) if latency is not None else None,
                   float(params["kill_interval_s"]))


def _scale_to_zero(ctx: FaultContext, s: Settings, rec: Recorder) -> None:
    rec.scale(DEPLOYMENT, 0)


def _kill(ctx: FaultContext, s: Settings, rec: Recorder) -> None:
    if ctx.kubeconfig is None:
        raise InvalidInput("fault adapter_failure: variant killed needs a kubeconfig file for its "
                           "background pod killer")
    rec.start_worker("pod_killer", {
        "kubeconfig": str(ctx.kubeconfig), "context": ctx.context, "namespace": ctx.namespace,
        "selector": f"app={DEPLOYMENT}", "interval_s": s.kill_interval_s,
        "max_seconds": workers.DEFAULT_MAX_S,
    }, f"deleting {DEPLOYMENT} pods every {s.kill_interval_s:g}s")


def _errors(ctx: FaultContext, s: Settings, rec: Recorder) -> None:
    rec.set_configmap(ADAPTER_CONFIG, {"error_rate": f"{s.error_rate:g}"})


def _slow(ctx: FaultContext, s: Settings, rec: Recorder) -> None:
    text = ctx.cluster.get_configmap(ctx.namespace, FABRIC.policy_config).get("adapter_timeout_ms")
    timeout = int(text) if text and text.strip().isdigit() else DEFAULT_TIMEOUT_MS
    latency = s.added_latency_ms if s.added_latency_ms is not None else 4.0 * timeout
    if latency <= timeout:
        raise InvalidInput(f"fault adapter_failure: added_latency_ms={latency:g} is not beyond the "
                           f"watcher's adapter_timeout_ms={timeout}")
    rec.set_configmap(ADAPTER_CONFIG, {"added_latency_ms": f"{latency:g}"})


VARIANTS = {
    Variant.SCALED_TO_ZERO: _scale_to_zero,
    Variant.KILLED: _kill,
    Variant.ERRORS: _errors,
    Variant.SLOW: _slow,
}


def _variant_mark(ctx: FaultContext, s: Settings, state: FaultState) -> tuple[bool, str]:
    if s.variant is Variant.SCALED_TO_ZERO:
        live = [p for p in ctx.cluster.list_pods(ctx.namespace, f"app={DEPLOYMENT}") if not p.deleting]
        return not live, f"{len(live)} {DEPLOYMENT} pods left"
    if s.variant is Variant.KILLED:
        killers = [c.worker for c in state.changes if c.kind is ChangeKind.WORKER and c.worker]
        deleted = sum(len(workers.read_status(w.directory).get("deleted", [])) for w in killers)
        return deleted > 0, f"{deleted} {DEPLOYMENT} pods deleted so far"
    key = "error_rate" if s.variant is Variant.ERRORS else "added_latency_ms"
    value = ctx.cluster.get_configmap(ctx.namespace, ADAPTER_CONFIG).get(key, "0")
    return float(value or 0) > 0, f"{ADAPTER_CONFIG} {key}={value}"


class AdapterFailure:
    kind = FaultKind.ADAPTER_FAILURE
    summary = "the policy adapter fails (scaled to zero, killed, erroring or slow), fail_closed or fail_open"
    spec = ParamSpec((
        Param("variant", "how the adapter fails", default=Variant.SCALED_TO_ZERO.value,
              choices=tuple(v.value for v in Variant)),
        Param("failure_mode", "what the watcher does when the adapter fails",
              default="fail_closed", choices=m.ADAPTER_FAILURE_MODES),
        Param("error_rate", "errors: share of permit calls answered 500", default=1.0,
              low=0.0, high=1.0, low_open=True),
        Param("added_latency_ms", "slow: delay of each answer (default 4x the watcher's timeout)",
              low=0.0, high=60_000.0, low_open=True),
        Param("kill_interval_s", "killed: seconds between pod deletions", default=2.0,
              low=0.5, high=60.0),
    ))
    terms = ("policy adapter", FABRIC.adapter, "adapter")

    def validate(self, params: Params) -> dict[str, ParamValue]:
        return self.spec.resolve(self.kind.value, params)

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None:
        s = Settings.of(params)
        rec.set_configmap(FABRIC.policy_config, {"adapter_failure_mode": s.failure_mode})
        VARIANTS[s.variant](ctx, s, rec)

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation:
        s = Settings.of(state.params)
        before, after = ctx.window(PROVE_WINDOW_S)
        errors = adapter_error_delta(before, after)
        opened = delta(before, after, m.ADAPTER_FAIL_OPEN.name)
        marked, mark = _variant_mark(ctx, s, state)
        seen = errors > 0 and (s.failure_mode != "fail_open" or opened > 0)
        detail = (f"{errors:g} failed adapter calls and {opened:g} fail-open requests in "
                  f"{after.at - before.at:.1f}s across {len(after.pods)} watchers; {mark}")
        return Observation(seen and marked, detail)
