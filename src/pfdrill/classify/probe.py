"""A probe: one indicator held at one value, written two ways.

As ``promtool test rules`` input series (raw fabric metrics at the
profile's scrape interval, so the rules' own arithmetic must produce the value) and as the
:class:`Signals`/:class:`Baseline` pair the classifier sees. Conformance
compares what each side makes of the same value. One builder per indicator,
in a registry keyed by :class:`Indicator`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pfdrill.model import metrics
from pfdrill.model.signals import Baseline, Indicator, Signals

# Steady-state values used where a probe needs a baseline; comfortably above the
# reject-rate floor so that the floor does not mask the threshold under test.
BASELINE_LATENCY_S = 0.01
BASELINE_REJECT_RATE = 1.0
CALLS_PER_S = 100.0  # denominator traffic of the ratio indicators


@dataclasses.dataclass(frozen=True)
class Series:
    selector: str  # e.g. 'certs_total{job="sidecar-watcher"}'
    per_second: float  # slope for counters; 0 for gauges
    start: float = 0.0
    absent: bool = False  # no samples at all (a target that is gone)

    def values(self, samples: int, interval_s: float = 1.0) -> str:
        """promtool's expanding notation for ``samples`` samples ``interval_s`` apart."""
        if self.absent:
            return f"_x{samples}"
        return f"{_fmt(self.start)}+{_fmt(self.per_second * interval_s)}x{samples}"


def _fmt(x: float) -> str:
    return f"{x:.12g}"


@dataclasses.dataclass(frozen=True)
class Probe:
    indicator: Indicator
    value: float
    series: tuple[Series, ...]
    signals: Signals
    baseline: Baseline


_W = 'job="sidecar-watcher", instance="w0"'
_A = 'job="policy-adapter", instance="a0"'
_S = 'job="pfdrill-sink", instance="sink"'


def _gauge(name: str, value: float, labels: str = _W) -> Series:
    return Series(f"{name}{{{labels}}}", 0.0, start=value)


def _counter(name: str, per_second: float, labels: str = _W) -> Series:
    return Series(f"{name}{{{labels}}}", per_second)


def _baseline(signal: str, value: float) -> Series:
    return _gauge(metrics.BASELINE.name, value, f'{_S}, signal="{signal}"')


Builder = Callable[[float], tuple[tuple[Series, ...], Signals, Baseline]]


def _flag(metric: str, labels: str, field: str) -> Builder:
    def build(v: float) -> tuple[tuple[Series, ...], Signals, Baseline]:
        return (_gauge(metric, v, labels),), Signals(**{field: v}), Baseline()
    return build


def _rate(metric: str, labels: str, field: str) -> Builder:
    def build(v: float) -> tuple[tuple[Series, ...], Signals, Baseline]:
        return (_counter(metric, v, labels),), Signals(**{field: v}), Baseline()
    return build


def _ratio(total: str, part: str, part_labels: str, field: str, part_is_good: bool) -> Builder:
    def build(v: float) -> tuple[tuple[Series, ...], Signals, Baseline]:
        share = (1 - v) if part_is_good else v
        series = (_counter(total, CALLS_PER_S), _counter(part, CALLS_PER_S * share, part_labels))
        return series, Signals(**{field: v}), Baseline()
    return build


def _sidecars(v: float) -> tuple[tuple[Series, ...], Signals, Baseline]:
    count = max(0, round(v))
    if count == 0:  # scaled to zero: no target, so no `up` series at all
        series: tuple[Series, ...] = (Series('up{job="sidecar-watcher", instance="w0"}', 0, absent=True),)
    else:
        series = tuple(Series(f'up{{job="sidecar-watcher", instance="w{i}"}}', 0.0, start=1)
                       for i in range(count))
    return series, Signals(sidecars_up=float(count)), Baseline()


def _latency(v: float) -> tuple[tuple[Series, ...], Signals, Baseline]:
    live = BASELINE_LATENCY_S * (1 + v)
    series = (
        _counter(f"{metrics.MONITOR_DURATION.name}_count", CALLS_PER_S),
        _counter(f"{metrics.MONITOR_DURATION.name}_sum", CALLS_PER_S * live),
        _baseline("latency_mean_seconds", BASELINE_LATENCY_S),
    )
    return series, Signals(latency_mean_seconds=live), Baseline(latency_mean_seconds=BASELINE_LATENCY_S)


def _rejects(v: float) -> tuple[tuple[Series, ...], Signals, Baseline]:
    live = BASELINE_REJECT_RATE * v
    series = (
        _counter(metrics.PERMIT_REJECTS.name, live, f'{_W}, reason="permit"'),
        _baseline("reject_rate", BASELINE_REJECT_RATE),
    )
    return series, Signals(reject_rate=live), Baseline(reject_rate=BASELINE_REJECT_RATE)


BUILDERS: dict[Indicator, Builder] = {
    Indicator.ENFORCEMENT_DISABLED: _flag(metrics.ENFORCEMENT_MODE.name, f'{_W}, mode="disabled"',
                                          "enforcement_disabled"),
    Indicator.ENFORCEMENT_RELAXED: _flag(metrics.ENFORCEMENT_MODE.name, f'{_W}, mode="monitor"',
                                         "enforcement_relaxed"),
    Indicator.SIDECARS_UP: _sidecars,
    Indicator.ADAPTER_FAIL_OPEN_RATE: _rate(metrics.ADAPTER_FAIL_OPEN.name, _W, "adapter_fail_open_rate"),
    Indicator.HIGH_ASSURANCE_VIOLATION_RATE: _rate(
        metrics.HIGH_ASSURANCE_VIOLATIONS.name, _W, "high_assurance_violation_rate"),
    Indicator.BRIDGE_GUARANTEE_OK: _flag(metrics.BRIDGE_OK.name, _W, "bridge_guarantee_ok"),
    Indicator.DFA_INTEGRITY_OK: _flag(metrics.DFA_INTEGRITY_OK.name, _W, "dfa_integrity_ok"),
    Indicator.CERT_FAILURE_RATIO: _ratio(metrics.CERTS.name, metrics.CERTS_VERIFIED.name, _W,
                                         "cert_failure_ratio", part_is_good=True),
    Indicator.LATENCY_DEGRADATION: _latency,
    Indicator.REJECT_RATE_RATIO: _rejects,
    Indicator.WITNESS_FAILURE_RATIO: _ratio(
        metrics.WITNESS_VALIDATIONS.name, metrics.WITNESS_FAILURES.name, _W,
        "witness_failure_ratio", part_is_good=False),
    Indicator.NI_REJECT_RATE: _rate(metrics.NI_REJECTS.name, _W, "ni_reject_rate"),
    Indicator.CONFIG_RELOAD_OK: _flag(metrics.CONFIG_LAST_RELOAD_OK.name, _W, "config_reload_ok"),
    Indicator.DFA_LOAD_FAILURE_RATE: _rate(metrics.DFA_LOAD_FAILURES.name, f'{_W}, reason="sha256"',
                                           "dfa_load_failure_rate"),
    Indicator.ADAPTER_ERROR_RATIO: _ratio(metrics.REQUESTS.name, metrics.ADAPTER_ERRORS.name,
                                          f'{_W}, kind="timeout"', "adapter_error_ratio",
                                          part_is_good=False),
}


def build(indicator: Indicator, value: float) -> Probe:
    series, signals, baseline = BUILDERS[indicator](value)
    return Probe(indicator, value, series, signals, baseline)
