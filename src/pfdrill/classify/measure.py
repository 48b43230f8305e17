"""Measure :class:`Signals` from Prometheus (the ``pfdrill:<signal>`` recording rules).

The rules must be loaded where the signals are read: the local stack loads
them itself; an in-cluster Prometheus needs the rendered rules
(``pfdrill alerts render``).
"""

from __future__ import annotations

import time

from pfdrill.model.signals import Baseline, Signals
from pfdrill.obs.api import PrometheusAPI


def _selector() -> str:
    names = "|".join(Signals.names())
    return f'{{__name__=~"pfdrill:({names})"}}'


def measure(prometheus: PrometheusAPI, at: float | None = None) -> Signals:
    """Every signal as Prometheus has it now (or at ``at``); absent ones are None."""
    when = at if at is not None else time.time()
    values: dict[str, object] = {name: None for name in Signals.names()}
    for sample in prometheus.query(_selector(), at=when):
        name = sample.labels.get("__name__", "").removeprefix("pfdrill:")
        if name in values:
            values[name] = sample.value
    values["measured_at"] = when
    return Signals.from_dict(values)


def measure_baseline(prometheus: PrometheusAPI, over_s: float = 60.0) -> Baseline:
    """The steady-state baseline: each baselined signal averaged over the last ``over_s``.

    Measure once traffic has run for at least a rate window: a baseline taken in
    the first seconds of load came out 35% below the later steady state.
    """
    when = time.time()
    span = max(1, round(over_s))
    latency = prometheus.value(f"avg_over_time(pfdrill:latency_mean_seconds[{span}s])", at=when)
    rejects = prometheus.value(f"avg_over_time(pfdrill:reject_rate[{span}s])", at=when)
    return Baseline(latency_mean_seconds=latency, reject_rate=rejects, measured_at=when)
