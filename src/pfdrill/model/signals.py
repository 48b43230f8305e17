"""Live signals, steady-state baselines and severity classifications.

The vocabulary shared by the alert rules (``deploy/alerts/source/rules.yml`` records
each signal as ``pfdrill:<name>``), the thresholds table
(``deploy/alerts/thresholds.yaml`` binds each row to an :class:`Indicator`),
the classifier, and the reports that show why a severity was chosen.

*Signals* are what is measured (a mean latency, a rejects-per-second rate);
*indicators* are what the runbook's table speaks about (latency degradation
relative to the baseline, reject rate as a multiple of the baseline). Most
indicators are a signal as is; two are a signal against its baseline.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

from pfdrill.model.severity import Severity


class Direction(enum.Enum):
    """Which way a value gets worse."""

    HIGHER_IS_WORSE = "higher_is_worse"
    LOWER_IS_WORSE = "lower_is_worse"


class Kind(enum.Enum):
    """What sort of number an indicator is (decides how it is probed at a boundary)."""

    FLAG = "flag"  # a 0/1 gauge
    COUNT = "count"  # a small whole number (targets up)
    RATE = "rate"  # events per second
    RATIO = "ratio"  # a fraction 0..1
    RELATIVE = "relative"  # a multiple of, or a change against, the baseline


@dataclasses.dataclass(frozen=True)
class IndicatorSpec:
    direction: Direction
    kind: Kind
    unit: str
    # True when the value comes from rate()/increase() over the profile's window, so
    # detection needs at least one more scrape than a gauge does.
    rate_based: bool
    help: str


class Indicator(enum.Enum):
    """What a row of the thresholds table compares against its bounds.

    The alert rules record each one as ``pfdrill:<value>``.
    """

    ENFORCEMENT_DISABLED = "enforcement_disabled"
    SIDECARS_UP = "sidecars_up"
    ADAPTER_FAIL_OPEN_RATE = "adapter_fail_open_rate"
    HIGH_ASSURANCE_VIOLATION_RATE = "high_assurance_violation_rate"
    BRIDGE_GUARANTEE_OK = "bridge_guarantee_ok"
    DFA_INTEGRITY_OK = "dfa_integrity_ok"
    CERT_FAILURE_RATIO = "cert_failure_ratio"
    LATENCY_DEGRADATION = "latency_degradation"
    REJECT_RATE_RATIO = "reject_rate_ratio"
    WITNESS_FAILURE_RATIO = "witness_failure_ratio"
    NI_REJECT_RATE = "ni_reject_rate"
    CONFIG_RELOAD_OK = "config_reload_ok"
    DFA_LOAD_FAILURE_RATE = "dfa_load_failure_rate"
    ADAPTER_ERROR_RATIO = "adapter_error_ratio"
    ENFORCEMENT_RELAXED = "enforcement_relaxed"

    @property
    def spec(self) -> IndicatorSpec:
        return INDICATORS[self]

    @property
    def record(self) -> str:
        """The recording rule that holds this indicator in Prometheus."""
        return f"pfdrill:{self.value}"

    @classmethod
    def parse(cls, text: str) -> Indicator:
        for member in cls:
            if member.value == text:
                return member
        known = ", ".join(m.value for m in cls)
        raise ValueError(f"unknown signal {text!r}: expected one of {known}")


_H, _L = Direction.HIGHER_IS_WORSE, Direction.LOWER_IS_WORSE
INDICATORS: dict[Indicator, IndicatorSpec] = {
    Indicator.ENFORCEMENT_DISABLED: IndicatorSpec(
        _H, Kind.FLAG, "", False, "1 when any sidecar runs with enforcement_mode=disabled"),
    Indicator.SIDECARS_UP: IndicatorSpec(
        _L, Kind.COUNT, "targets", False, "sidecar-watcher scrape targets that are up"),
    Indicator.ADAPTER_FAIL_OPEN_RATE: IndicatorSpec(
        _H, Kind.RATE, "/s", True, "requests allowed without a permit decision"),
    Indicator.HIGH_ASSURANCE_VIOLATION_RATE: IndicatorSpec(
        _H, Kind.RATE, "/s", True, "high-assurance mode violations"),
    Indicator.BRIDGE_GUARANTEE_OK: IndicatorSpec(
        _L, Kind.FLAG, "", False, "0 when any sidecar's local guarantees do not hold"),
    Indicator.DFA_INTEGRITY_OK: IndicatorSpec(
        _L, Kind.FLAG, "", False, "0 when any sidecar's loaded DFA fails its integrity check"),
    Indicator.CERT_FAILURE_RATIO: IndicatorSpec(
        _H, Kind.RATIO, "", True, "share of capability certificates that failed verification"),
    Indicator.LATENCY_DEGRADATION: IndicatorSpec(
        _H, Kind.RELATIVE, "", True, "mean decision latency over baseline, minus 1 (0.5 = +50%)"),
    Indicator.REJECT_RATE_RATIO: IndicatorSpec(
        _H, Kind.RELATIVE, "x", True, "reject rate as a multiple of the baseline reject rate"),
    Indicator.WITNESS_FAILURE_RATIO: IndicatorSpec(
        _H, Kind.RATIO, "", True, "share of witnesses that failed validation"),
    Indicator.NI_REJECT_RATE: IndicatorSpec(
        _H, Kind.RATE, "/s", True, "non-interference monitor rejections"),
    Indicator.CONFIG_RELOAD_OK: IndicatorSpec(
        _L, Kind.FLAG, "", False, "0 when any sidecar refused its last policy-config reload"),
    Indicator.DFA_LOAD_FAILURE_RATE: IndicatorSpec(
        _H, Kind.RATE, "/s", True, "DFA artifacts refused (bad sha256 or schema)"),
    Indicator.ADAPTER_ERROR_RATIO: IndicatorSpec(
        _H, Kind.RATIO, "", True, "failed policy-adapter calls per decide request"),
    Indicator.ENFORCEMENT_RELAXED: IndicatorSpec(
        _H, Kind.FLAG, "", False, "1 when any sidecar runs in shadow, monitor or break_glass"),
}


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


@dataclasses.dataclass(frozen=True)
class Signals:
    """Live values measured from Prometheus; ``None`` means "no data".

    Field names are the recording rules' suffixes (``pfdrill:<field>``).
    """

    enforcement_disabled: float | None = None
    sidecars_up: float | None = None
    adapter_fail_open_rate: float | None = None
    high_assurance_violation_rate: float | None = None
    bridge_guarantee_ok: float | None = None
    dfa_integrity_ok: float | None = None
    cert_failure_ratio: float | None = None
    latency_mean_seconds: float | None = None
    reject_rate: float | None = None
    witness_failure_ratio: float | None = None
    ni_reject_rate: float | None = None
    config_reload_ok: float | None = None
    dfa_load_failure_rate: float | None = None
    adapter_error_ratio: float | None = None
    enforcement_relaxed: float | None = None
    measured_at: float = 0.0  # Unix seconds

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The measured fields (everything but the timestamp)."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.name != "measured_at")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signals:
        values = {name: _num(data.get(name)) for name in cls.names()}
        return cls(**values, measured_at=float(data.get("measured_at", 0.0)))


@dataclasses.dataclass(frozen=True)
class Baseline:
    """Steady-state values measured before a fault; published as ``pfdrill_baseline``."""

    latency_mean_seconds: float | None = None
    reject_rate: float | None = None
    measured_at: float = 0.0

    @classmethod
    def from_signals(cls, signals: Signals) -> Baseline:
        return cls(
            latency_mean_seconds=signals.latency_mean_seconds,
            reject_rate=signals.reject_rate,
            measured_at=signals.measured_at,
        )

    def gauges(self) -> dict[str, float]:
        """``{signal label: value}`` for the ``pfdrill_baseline`` gauge (known values only)."""
        out: dict[str, float] = {}
        if self.latency_mean_seconds is not None:
            out["latency_mean_seconds"] = self.latency_mean_seconds
        if self.reject_rate is not None:
            out["reject_rate"] = self.reject_rate
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Baseline:
        return cls(
            latency_mean_seconds=_num(data.get("latency_mean_seconds")),
            reject_rate=_num(data.get("reject_rate")),
            measured_at=float(data.get("measured_at", 0.0)),
        )


@dataclasses.dataclass(frozen=True)
class RowMatch:
    """One row of the thresholds table that matched, with the value that matched it."""

    row: str
    severity: Severity
    item: str  # the runbook's words, e.g. "Certificate verification failures > 1%"
    indicator: Indicator
    value: float
    condition: str  # e.g. "> 0.01"

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row, "severity": self.severity.value, "item": self.item,
            "indicator": self.indicator.value, "value": self.value, "condition": self.condition,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowMatch:
        return cls(
            row=str(data["row"]), severity=Severity.parse(str(data["severity"])),
            item=str(data["item"]), indicator=Indicator.parse(str(data["indicator"])),
            value=float(data["value"]), condition=str(data["condition"]),
        )

    def describe(self) -> str:
        return f"{self.severity.value} {self.item}: {self.indicator.value}={self.value:g} ({self.condition})"


@dataclasses.dataclass(frozen=True)
class SignalVerdict:
    """The severity a set of signals deserves, and every row that says so."""

    severity: Severity
    reasons: tuple[RowMatch, ...] = ()
    signals: Signals = dataclasses.field(default_factory=Signals)
    baseline: Baseline = dataclasses.field(default_factory=Baseline)

    @property
    def incident(self) -> bool:
        return self.severity is not Severity.NONE

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "signals": self.signals.to_dict(),
            "baseline": self.baseline.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignalVerdict:
        return cls(
            severity=Severity.parse(str(data["severity"])),
            reasons=tuple(RowMatch.from_dict(r) for r in data.get("reasons", [])),
            signals=Signals.from_dict(dict(data.get("signals") or {})),
            baseline=Baseline.from_dict(dict(data.get("baseline") or {})),
        )
