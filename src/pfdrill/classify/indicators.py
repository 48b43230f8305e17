"""Indicator values from measured signals and the baseline (the same arithmetic as rules.yml).

Each indicator has one small function in a registry keyed by
:class:`~pfdrill.model.signals.Indicator`; ``None`` means "cannot say" (no
data, or no baseline for a relative indicator) and never matches a row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pfdrill.model.signals import Baseline, Indicator, Signals

Compute = Callable[[Signals, Baseline, Mapping[str, float]], float | None]


def _field(name: str) -> Compute:
    def compute(signals: Signals, baseline: Baseline, floors: Mapping[str, float]) -> float | None:
        value: float | None = getattr(signals, name)
        return value

    return compute


def _latency_degradation(signals: Signals, baseline: Baseline, floors: Mapping[str, float]) -> float | None:
    live, base = signals.latency_mean_seconds, baseline.latency_mean_seconds
    if live is None or base is None:
        return None
    # rules.yml: pfdrill:latency_mean_seconds / clamp_min(pfdrill:baseline:..., <floor>) - 1
    denominator = max(base, floors.get("latency_mean_seconds", 0.0))
    if denominator <= 0:
        return None
    return live / denominator - 1


def _reject_rate_ratio(signals: Signals, baseline: Baseline, floors: Mapping[str, float]) -> float | None:
    live, base = signals.reject_rate, baseline.reject_rate
    if live is None or base is None:
        return None
    # rules.yml: pfdrill:reject_rate / clamp_min(pfdrill:baseline:reject_rate, <floor>)
    denominator = max(base, floors.get("reject_rate", 0.0))
    if denominator <= 0:
        return None
    return live / denominator


COMPUTE: dict[Indicator, Compute] = {
    indicator: _field(indicator.value)
    for indicator in Indicator
    if indicator not in (Indicator.LATENCY_DEGRADATION, Indicator.REJECT_RATE_RATIO)
}
COMPUTE[Indicator.LATENCY_DEGRADATION] = _latency_degradation
COMPUTE[Indicator.REJECT_RATE_RATIO] = _reject_rate_ratio


def value(indicator: Indicator, signals: Signals, baseline: Baseline,
          floors: Mapping[str, float]) -> float | None:
    return COMPUTE[indicator](signals, baseline, floors)
