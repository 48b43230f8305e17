"""chaostoolkit probes: the fabric's health for steady-state hypotheses, and each fault's proof.

Steady-state probes read the watchers' own metrics (the kwok runtime's scrape
targets, or Prometheus) and return plain numbers for tolerances, e.g.::

    {"type": "probe", "name": "certificate failures at most 2%",
     "tolerance": {"type": "range", "range": [0, 0.02]},
     "provider": {"type": "python", "module": "pfdrill.chaos.probes",
                  "func": "cert_failure_ratio", "arguments": {"window_s": 3}}}

Rates and ratios need two scrapes a few seconds apart; probes asked within a
second of each other share one window, so a hypothesis of several rate probes
costs one window, not one each.

``prove_fault`` waits until the fault's own proof holds and raises otherwise,
so an experiment whose fault never took effect fails instead of passing
vacuously.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pfdrill.chaos import target
from pfdrill.chaos.actions import fault_for
from pfdrill.errors import ObjectNotFound, ProbeFailure
from pfdrill.fabric import readiness
from pfdrill.faults.context import FaultContext
from pfdrill.faults.metrics import (
    Scrape,
    adapter_error_delta,
    delta,
    mean_latency_s,
    reject_total_delta,
)
from pfdrill.model import metrics as m

Configuration = Mapping[str, Any] | None
REUSE_S = 1.0
HEALTH_REQUESTS = 6  # compliant requests fabric_healthy sends (when the watcher URL is known)  # a window that ended this recently is reused by the next rate probe

AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "min": min, "max": max, "sum": lambda v: float(sum(v)),
}

_windows: dict[int, tuple[float, float, Scrape, Scrape]] = {}  # id(ctx) -> (span, ended, a, b)
_lock = threading.Lock()


def _window(ctx: FaultContext, seconds: float) -> tuple[Scrape, Scrape]:
    with _lock:
        cached = _windows.get(id(ctx))
        if cached is not None:
            span, ended, a, b = cached
            if span >= seconds * 0.9 and time.monotonic() - ended <= REUSE_S:
                return a, b
    a, b = ctx.window(seconds, nudge=0)
    with _lock:
        _windows[id(ctx)] = (b.at - a.at, time.monotonic(), a, b)
    return a, b


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


# --- the fabric's health ---------------------------------------------------------------

def fabric_ready(require_replicas: bool = True, configuration: Configuration = None) -> bool:
    """True when sidecar-watcher and policy-adapter are ready — :mod:`pfdrill.fabric.readiness`,
    the predicate the drill's preflight and recovery use too.

    ``require_replicas``: also at least one replica each (a Deployment scaled to
    zero is "settled" but serves nothing).
    """
    return target.context(configuration).readiness(require_replicas).ok


def wait_fabric_ready(timeout_s: float = 120.0, require_replicas: bool = True,
                      configuration: Configuration = None) -> bool:
    """Block until :func:`fabric_ready` (e.g. after a rollback); raise on timeout."""
    deadline = time.monotonic() + float(timeout_s)
    while True:
        got = target.context(configuration).readiness(require_replicas)
        if got.ok:
            return True
        if time.monotonic() >= deadline:
            raise ProbeFailure(f"the fabric was not ready within {float(timeout_s):g}s: "
                               f"{got.describe()}")
        time.sleep(1.0)


def fabric_healthy(configuration: Configuration = None) -> bool:
    """Ready (see :func:`fabric_ready`), every desired watcher reports its local
    guarantees holding (config, DFA and trust bundle loaded, a deciding mode), and
    compliant requests of our own are allowed end to end (the adapter answers)."""
    ctx = target.context(configuration)
    ready = ctx.readiness(True)
    if not ready.ok:
        return False
    watchers = ready.of(readiness.WORKLOADS[0])
    wanted = watchers.replicas if watchers else 1
    values = ctx.scrape().values(m.BRIDGE_OK.name)
    if len(values) < wanted or not all(v == 1 for v in values):
        return False
    answers = ctx.send_compliant(HEALTH_REQUESTS)
    return all(status == 200 for status, _why in answers)


def wait_fabric_healthy(timeout_s: float = 120.0, configuration: Configuration = None) -> bool:
    """Block until :func:`fabric_healthy` (after a rollback: reloads take a moment)."""
    deadline = time.monotonic() + float(timeout_s)
    while True:
        if fabric_healthy(configuration):
            return True
        if time.monotonic() >= deadline:
            raise ProbeFailure(f"the fabric was not healthy within {float(timeout_s):g}s")
        time.sleep(0.5)


def watcher_gauge(metric: str, labels: Mapping[str, str] | None = None, aggregate: str = "min",
                  configuration: Configuration = None) -> float:
    """A gauge across the watchers: ``min`` (every watcher), ``max`` (any) or ``sum``."""
    values = target.context(configuration).scrape().values(metric, labels)
    if not values:
        raise ProbeFailure(f"no watcher reports {metric}{dict(labels or {})}")
    if aggregate not in AGGREGATES:
        raise ProbeFailure(f"aggregate {aggregate!r} is not one of {', '.join(AGGREGATES)}")
    return AGGREGATES[aggregate](values)


def watcher_rate(metric: str, labels: Mapping[str, str] | None = None, window_s: float = 3.0,
                 configuration: Configuration = None) -> float:
    """A counter's rate per second, summed over the watchers."""
    a, b = _window(target.context(configuration), float(window_s))
    return delta(a, b, metric, labels) / max(b.at - a.at, 1e-9)


def cert_failure_ratio(window_s: float = 3.0, configuration: Configuration = None) -> float:
    """Share of capability certificates that failed verification (0 without traffic)."""
    a, b = _window(target.context(configuration), float(window_s))
    checked = delta(a, b, m.CERTS.name)
    return _ratio(checked - delta(a, b, m.CERTS_VERIFIED.name), checked)


def reject_share(window_s: float = 3.0, configuration: Configuration = None) -> float:
    """Share of decide requests that were rejected."""
    a, b = _window(target.context(configuration), float(window_s))
    return _ratio(reject_total_delta(a, b), delta(a, b, m.REQUESTS.name))


def reject_rate(window_s: float = 3.0, configuration: Configuration = None) -> float:
    """Rejections per second, every reason."""
    a, b = _window(target.context(configuration), float(window_s))
    return reject_total_delta(a, b) / max(b.at - a.at, 1e-9)


def witness_failure_ratio(window_s: float = 3.0, configuration: Configuration = None) -> float:
    a, b = _window(target.context(configuration), float(window_s))
    return _ratio(delta(a, b, m.WITNESS_FAILURES.name), delta(a, b, m.WITNESS_VALIDATIONS.name))


def adapter_error_ratio(window_s: float = 3.0, configuration: Configuration = None) -> float:
    """Failed adapter calls per decide request."""
    a, b = _window(target.context(configuration), float(window_s))
    return _ratio(adapter_error_delta(a, b), delta(a, b, m.REQUESTS.name))


def mean_latency_ms(window_s: float = 3.0, configuration: Configuration = None) -> float:
    """Mean decision latency in milliseconds (0 without traffic)."""
    a, b = _window(target.context(configuration), float(window_s))
    mean = mean_latency_s(a, b)
    return 0.0 if mean is None else mean * 1000


def request_rate(window_s: float = 3.0, configuration: Configuration = None) -> float:
    a, b = _window(target.context(configuration), float(window_s))
    return delta(a, b, m.REQUESTS.name) / max(b.at - a.at, 1e-9)


def deployment_replicas(deployment: str, configuration: Configuration = None) -> int:
    ctx = target.context(configuration)
    try:
        return ctx.cluster.get_deployment(ctx.namespace, deployment).replicas
    except ObjectNotFound:
        return 0


# --- a fault's own proof -------------------------------------------------------------------

def fault_in_effect(fault: str | None = None, key: str | None = None,
                    configuration: Configuration = None) -> bool:
    """One look: is the fault under ``key`` observed in effect right now?"""
    return fault_for(fault, key, configuration).prove().proven


def prove_fault(fault: str | None = None, key: str | None = None, timeout_s: float = 90.0,
                configuration: Configuration = None) -> dict[str, Any]:
    """Wait until the fault is observed in effect; raise ProbeFailure if it never is."""
    f = fault_for(fault, key, configuration)
    started = time.monotonic()
    deadline = started + float(timeout_s)
    while True:
        obs = f.prove()
        if obs.proven:
            return {"proven": True, "after_s": round(time.monotonic() - started, 2), "detail": obs.detail}
        if time.monotonic() >= deadline:
            raise ProbeFailure(f"fault {f.name} (key {f.key}) not observed in effect within "
                               f"{float(timeout_s):g}s: {obs.detail}")
        time.sleep(0.5)


def observe_fault(fault: str | None = None, key: str | None = None, seconds: float = 3.0,
                  configuration: Configuration = None) -> dict[str, Any]:
    """Keep the fault in place for ``seconds`` (the hold), proving it along the way."""
    f = fault_for(fault, key, configuration)
    deadline = time.monotonic() + float(seconds)
    seen: list[str] = []
    held = True
    while True:
        obs = f.prove()
        held = held and obs.proven
        seen.append(obs.detail)
        if time.monotonic() >= deadline:
            break
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    return {"held": held, "observations": seen}
