"""A load plan: where to send traffic, how much of each kind, for how long.

Rates are requests per second per :class:`TrafficKind`; the total is their
sum. A *steady baseline* is mostly compliant traffic with a small, steady
share of violations, so that the baseline reject rate is measurable and a
fault can be expressed relative to it::

    base = LoadPlan.baseline("http://127.0.0.1:8080", rate=20)
    surge = base.scaled(TrafficKind.VIOLATING, 10)   # violations at 10x the baseline
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput


class TrafficKind(enum.Enum):
    COMPLIANT = "compliant"
    VIOLATING = "violating"  # DFA, permit and NI violations
    UNAUTHENTICATED = "unauthenticated"  # no certificate, foreign CA, expired
    TAMPERED_WITNESS = "tampered_witness"


# Locust users are greenlets issuing one request at a time; spreading a kind's
# rate over users of at most this many req/s keeps each far from saturation.
PER_USER_RPS = 20.0

# Unauthenticated traffic is kept to a quarter percent: two thirds of it carries a bad
# certificate, and at 1% the steady state sat at 0.67% failed verifications — close
# enough to the runbook's 1% SEV-1 line for a 30 s window's noise to cross it.
BASELINE_MIX = {
    TrafficKind.COMPLIANT: 0.9675,
    TrafficKind.VIOLATING: 0.02,
    TrafficKind.UNAUTHENTICATED: 0.0025,
    TrafficKind.TAMPERED_WITNESS: 0.01,
}


@dataclasses.dataclass(frozen=True)
class LoadPlan:
    target: str
    rates: dict[TrafficKind, float]
    duration_s: float | None = None  # None: until stopped
    path: str = "/v1/decide"
    # More base URLs to spread users over (round robin), e.g. replicas without a Service.
    extra_targets: tuple[str, ...] = ()
    # Variants (``pfdrill.load.traffic``) left out, e.g. "violating:ni" so that a reject-rate
    # spike does not also cross the NI-monitor row of the severity table.
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for url in self.targets:
            if not url.startswith(("http://", "https://")):
                raise InvalidInput(f"target {url!r} must be an http(s) URL")
        for kind, rate in self.rates.items():
            if not isinstance(kind, TrafficKind) or not rate >= 0 or math.isinf(rate):
                raise InvalidInput(f"rate for {kind} must be a finite number >= 0, got {rate!r}")
        if self.total_rate <= 0:
            raise InvalidInput("a load plan needs a total rate above 0 req/s")
        if self.duration_s is not None and self.duration_s <= 0:
            raise InvalidInput("duration must be positive")

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.target, *self.extra_targets)

    @property
    def total_rate(self) -> float:
        return sum(self.rates.values())

    def users(self, kind: TrafficKind) -> int:
        """How many locust users carry ``kind`` (0 when its rate is 0)."""
        rate = self.rates.get(kind, 0.0)
        return math.ceil(rate / PER_USER_RPS) if rate > 0 else 0

    @property
    def total_users(self) -> int:
        return sum(self.users(k) for k in TrafficKind)

    @classmethod
    def mixed(cls, target: str, rate: float, mix: dict[TrafficKind, float],
              duration_s: float | None = None, extra_targets: tuple[str, ...] = ()) -> LoadPlan:
        """``rate`` req/s in total, split by the (not necessarily normalised) weights in ``mix``."""
        weight = sum(mix.values())
        if weight <= 0:
            raise InvalidInput("the traffic mix needs at least one positive weight")
        rates = {k: rate * w / weight for k, w in mix.items() if w > 0}
        return cls(target, rates, duration_s, extra_targets=extra_targets)

    @classmethod
    def baseline(cls, target: str, rate: float = 20.0, duration_s: float | None = None,
                 extra_targets: tuple[str, ...] = ()) -> LoadPlan:
        """The steady baseline used around faults: 96.75% compliant, the rest spread over violations."""
        return cls.mixed(target, rate, BASELINE_MIX, duration_s, extra_targets)

    def scaled(self, kind: TrafficKind, factor: float) -> LoadPlan:
        """This plan with ``kind``'s rate multiplied by ``factor`` (the others unchanged)."""
        rates = dict(self.rates)
        rates[kind] = rates.get(kind, 0.0) * factor
        return dataclasses.replace(self, rates=rates)

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "extra_targets": list(self.extra_targets), "path": self.path,
                "duration_s": self.duration_s, "rates": {k.value: r for k, r in self.rates.items()},
                "exclude": list(self.exclude)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadPlan:
        try:
            rates = {TrafficKind(k): float(v) for k, v in dict(data["rates"]).items()}
            duration = data.get("duration_s")
            return cls(str(data["target"]), rates, float(duration) if duration is not None else None,
                       str(data.get("path", "/v1/decide")),
                       tuple(str(t) for t in data.get("extra_targets") or ()),
                       tuple(str(v) for v in data.get("exclude") or ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"not a load plan: {exc}") from None

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LoadPlan:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read load plan: {exc}", file=path) from None
        try:
            return cls.from_dict(data)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, file=path) from None
