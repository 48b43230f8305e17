"""Drill knobs: faults the fabric can be told to exhibit, hot-reloaded like its config.

The watcher reads ConfigMap ``fabric-chaos`` (``added_latency_ms``,
``cpu_burn_ms``: a performance-degradation fault, per request); the adapter
reads its knobs from ``policy-adapter-config`` (``error_rate``: fraction of
permit calls answered 500, ``added_latency_ms``: delay before answering, e.g.
beyond the watcher's timeout). Absent keys mean "no fault".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


class KnobsRefused(ValueError):
    """Knob values that must not be applied; the message names the key."""


def _number(data: Mapping[str, str], key: str, low: float, high: float) -> float:
    text = data.get(key)
    if text is None or not text.strip():
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise KnobsRefused(f"{key}={text.strip()!r}: expected a number") from None
    if not low <= value <= high:
        raise KnobsRefused(f"{key}={text.strip()!r}: expected a number in {low:g}..{high:g}")
    return value


@dataclasses.dataclass(frozen=True)
class WatcherKnobs:
    added_latency_ms: float = 0.0
    cpu_burn_ms: float = 0.0

    KEYS = ("added_latency_ms", "cpu_burn_ms")

    @classmethod
    def parse(cls, data: Mapping[str, str]) -> WatcherKnobs:
        unknown = sorted(set(data) - set(cls.KEYS))
        if unknown:
            raise KnobsRefused(f"unknown key(s) {', '.join(unknown)} (known: {', '.join(cls.KEYS)})")
        return cls(_number(data, "added_latency_ms", 0, 60_000), _number(data, "cpu_burn_ms", 0, 10_000))

    @property
    def active(self) -> bool:
        return self.added_latency_ms > 0 or self.cpu_burn_ms > 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class AdapterKnobs:
    error_rate: float = 0.0
    added_latency_ms: float = 0.0

    KEYS = ("error_rate", "added_latency_ms")

    @classmethod
    def parse(cls, data: Mapping[str, str]) -> AdapterKnobs:
        return cls(_number(data, "error_rate", 0, 1), _number(data, "added_latency_ms", 0, 60_000))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
