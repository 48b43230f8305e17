"""The experiments: one builder for the scenario files and for the drill's own runs.

A scenario (``scenarios/<name>.json``, written by :func:`write_scenarios` and
checked against this module by a test, so file and code cannot drift) is::

    steady-state hypothesis   the fabric is ready, enforcing, its guarantees hold,
                              certificate failures, rejections and adapter errors low
    method                    inject_fault → prove_fault (the fault observed in effect)
                              → observe_fault (hold it ``pfdrill_hold_s`` seconds)
                              → rollback_fault → wait_fabric_ready
    (hypothesis again)        the steady state is back
    rollbacks                 rollback_fault again: idempotent, and it is what runs
                              when the method fails or is interrupted midway
    runtime                   rollbacks.strategy = always

The drill engine times detection from the injection, so it runs the same
pieces in two experiments (:func:`inject_experiment`, :func:`rollback_experiment`)
with its own phases in between.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pfdrill.chaos import target
from pfdrill.faults.kind import FaultKind
from pfdrill.model import metrics as m
from pfdrill.model.drill import ParamValue

Experiment = dict[str, Any]
ACTIONS, PROBES, CONTROL = "pfdrill.chaos.actions", "pfdrill.chaos.probes", "pfdrill.chaos.control"
DEFAULT_HOLD_S = "3"
# Rates over a few seconds of baseline traffic (20 req/s) are noisy: one request in a
# hundred is 1%. Tolerances say "normal", the alert rules judge the thresholds.
RATE_WINDOW_S = 5


@dataclasses.dataclass(frozen=True)
class ScenarioSpec:
    name: str  # file stem in scenarios/
    fault: FaultKind
    params: dict[str, ParamValue]
    title: str
    description: str
    prove_timeout_s: float = 90.0

    @property
    def key(self) -> str:
        return f"scenario-{self.name}"


SCENARIOS: tuple[ScenarioSpec, ...] = (
    ScenarioSpec("adapter-failure", FaultKind.ADAPTER_FAILURE,
                 {"variant": "scaled_to_zero", "failure_mode": "fail_closed"},
                 "The policy adapter goes away (fail_closed)",
                 "policy-adapter scaled to zero while the watcher fails closed: requests that need "
                 "a permit are rejected until the adapter is back."),
    ScenarioSpec("adapter-failure-fail-open", FaultKind.ADAPTER_FAILURE,
                 {"variant": "scaled_to_zero", "failure_mode": "fail_open"},
                 "The policy adapter goes away (fail_open)",
                 "policy-adapter scaled to zero while the watcher fails open: requests pass without "
                 "a permit decision, enforcement is effectively off (SEV-1)."),
    ScenarioSpec("certificate-corruption", FaultKind.CERTIFICATE_CORRUPTION, {"mode": "flip"},
                 "The trust bundle in fabric-certs is corrupted",
                 "Bits of the CA public keys in Secret fabric-certs flipped: the bundle no longer "
                 "verifies, the watchers refuse it and the bridge guarantee is broken (SEV-1)."),
    ScenarioSpec("high-reject-rate", FaultKind.HIGH_REJECT_RATE, {"multiplier": 12},
                 "The reject rate spikes to 12x its baseline",
                 "locust drives violating traffic until the reject rate is 12 times the measured "
                 "baseline: a reject-rate spike above 10x normal (SEV-2)."),
    ScenarioSpec("dfa-tampering", FaultKind.DFA_TAMPERING, {"mode": "sha_mismatch"},
                 "The DFA artifact is tampered with",
                 "dfa-artifact rewritten without its sha256: the watchers refuse it and keep the "
                 "last good automaton."),
    ScenarioSpec("enforcement-disabled", FaultKind.ENFORCEMENT_DISABLED, {"mode": "disabled"},
                 "Configuration drift disables enforcement",
                 "policy-config drifts to enforcement_mode=disabled: nothing is decided (SEV-1)."),
    ScenarioSpec("witness-failures", FaultKind.WITNESS_FAILURES, {"fraction": 0.5, "rate": 20},
                 "Witness validation failures",
                 "Half of 20 req/s of generated traffic carries tampered witnesses (SEV-2 above 5%)."),
    ScenarioSpec("ni-reject-burst", FaultKind.NI_REJECT_BURST, {"rate": 5},
                 "A burst of non-interference rejects",
                 "5 req/s from principals whose clearance is below the data they read (SEV-2 "
                 "above 1/s)."),
    ScenarioSpec("sidecar-pod-loss", FaultKind.SIDECAR_POD_LOSS,
                 {"variant": "scaled_down", "count": 1},
                 "A sidecar-watcher replica is lost", "sidecar-watcher scaled down by one replica."),
    ScenarioSpec("performance-degradation", FaultKind.PERFORMANCE_DEGRADATION,
                 {"percent": 60, "kind": "latency"},
                 "Decisions 60% slower",
                 "Every decision delayed by 60% of the baseline mean latency (SEV-2 above 50%)."),
    ScenarioSpec("break-glass-left-on", FaultKind.BREAK_GLASS_LEFT_ON, {},
                 "Break-glass left on",
                 "enforcement_mode left at break_glass: findings are logged and allowed."),
)


def scenario(name: str) -> ScenarioSpec:
    for spec in SCENARIOS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def _python(module: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "python", "module": module, "func": func, "arguments": arguments}


def _probe(name: str, func: str, tolerance: Any, **arguments: Any) -> dict[str, Any]:
    return {"type": "probe", "name": name, "tolerance": tolerance,
            "provider": _python(PROBES, func, **arguments)}


def _range(low: float, high: float) -> dict[str, Any]:
    return {"type": "range", "range": [low, high]}


def hypothesis() -> dict[str, Any]:
    """The fabric's steady state, as probes on its own metrics."""
    w = RATE_WINDOW_S
    return {
        "title": "The fabric is up, enforcing, its guarantees hold and traffic is judged normally",
        "probes": [
            _probe("sidecar-watcher and policy-adapter are ready", "fabric_ready", True),
            _probe("every watcher enforces", "watcher_gauge", 1,
                   metric=m.ENFORCEMENT_MODE.name, labels={"mode": "enforce"}, aggregate="min"),
            _probe("the bridge guarantee holds on every watcher", "watcher_gauge", 1,
                   metric=m.BRIDGE_OK.name, aggregate="min"),
            _probe("certificate verification failures at most 5%", "cert_failure_ratio",
                   _range(0, 0.05), window_s=w),
            _probe("at most 15% of requests rejected", "reject_share", _range(0, 0.15), window_s=w),
            _probe("adapter errors on at most 5% of requests", "adapter_error_ratio",
                   _range(0, 0.05), window_s=w),
        ],
    }


def _configuration(key: str) -> dict[str, Any]:
    return {**target.experiment_configuration(),
            "pfdrill_key": {"type": "env", "key": "PFDRILL_FAULT_KEY", "default": key},
            "pfdrill_hold_s": {"type": "env", "key": "PFDRILL_HOLD_S", "default": DEFAULT_HOLD_S}}


def _skeleton(title: str, description: str, fault: FaultKind, key: str) -> Experiment:
    return {
        "version": "1.0.0",
        "title": title,
        "description": description,
        "tags": ["pfdrill", "provability-fabric", fault.value],
        "configuration": _configuration(key),
        "controls": [{"name": "pfdrill", "provider": {"type": "python", "module": CONTROL}}],
        "runtime": {"rollbacks": {"strategy": "always"}},
        "steady-state-hypothesis": hypothesis(),
    }


def _inject(fault: FaultKind, params: dict[str, ParamValue]) -> dict[str, Any]:
    return {"type": "action", "name": f"inject {fault.value}",
            "provider": _python(ACTIONS, "inject_fault", fault=fault.value, params=dict(params),
                                key="${pfdrill_key}")}


def _rollback(fault: FaultKind, name: str) -> dict[str, Any]:
    return {"type": "action", "name": name,
            "provider": _python(ACTIONS, "rollback_fault", fault=fault.value, key="${pfdrill_key}")}


def _wait_ready(timeout_s: float = 120, require_replicas: bool = True) -> dict[str, Any]:
    return {"type": "probe", "name": "wait until the fabric is ready again",
            "provider": _python(PROBES, "wait_fabric_ready", timeout_s=timeout_s,
                                require_replicas=require_replicas)}


def build(spec: ScenarioSpec) -> Experiment:
    exp = _skeleton(spec.title, spec.description, spec.fault, spec.key)
    exp["method"] = [
        _inject(spec.fault, spec.params),
        {"type": "probe", "name": f"{spec.fault.value} observed in effect",
         "provider": _python(PROBES, "prove_fault", fault=spec.fault.value, key="${pfdrill_key}",
                             timeout_s=spec.prove_timeout_s)},
        {"type": "probe", "name": f"hold {spec.fault.value}",
         "provider": _python(PROBES, "observe_fault", fault=spec.fault.value, key="${pfdrill_key}",
                             seconds="${pfdrill_hold_s}")},
        _rollback(spec.fault, f"roll back {spec.fault.value}"),
        {"type": "probe", "name": "wait until the fabric is healthy again",
         "provider": _python(PROBES, "wait_fabric_healthy", timeout_s=120)},
    ]
    exp["rollbacks"] = [_rollback(spec.fault, f"roll back {spec.fault.value} (if still injected)")]
    return exp


def inject_experiment(fault: FaultKind, params: dict[str, ParamValue], key: str) -> Experiment:
    """Steady state, then the injection only; the drill rolls back later."""
    exp = _skeleton(f"pfdrill drill: inject {fault.value}",
                    f"Inject {fault.value} for a drill; rolled back by the drill's own restore.",
                    fault, key)
    exp["extensions"] = [{"name": "pfdrill", "rollback": "deferred", "key": key}]
    exp["method"] = [_inject(fault, params)]
    exp["rollbacks"] = []
    return exp


def rollback_experiment(fault: FaultKind, key: str) -> Experiment:
    """Roll back, wait for the fabric, then check the steady state (after the method only)."""
    exp = _skeleton(f"pfdrill drill: roll back {fault.value}",
                    f"Undo {fault.value} and check that the steady state is back.", fault, key)
    # A runbook may have scaled the fabric down on purpose (SEV-1 mitigation): wait for the
    # Deployments to settle, not for replicas the drill's own restore brings back.
    exp["method"] = [_rollback(fault, f"roll back {fault.value}"),
                     _wait_ready(timeout_s=60, require_replicas=False)]
    exp["rollbacks"] = []
    return exp


def render(spec: ScenarioSpec) -> str:
    return json.dumps(build(spec), indent=2) + "\n"


def write_scenarios(directory: Path) -> list[Path]:
    """(Re)write every scenario file; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for spec in SCENARIOS:
        path = directory / f"{spec.name}.json"
        path.write_text(render(spec), encoding="utf-8")
        out.append(path)
    return out
