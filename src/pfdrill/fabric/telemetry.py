"""Prometheus collectors built from the metric contract in :mod:`pfdrill.model.metrics`.

Each service gets its own registry holding exactly the contract's names (no
process or platform collectors, no ``_created`` series), so the scrape
output is the contract and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pfdrill.model.metrics import Kind, Metric

# Per-request latency spans ~0.3 ms (all cached) to the adapter timeout and beyond.
DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


class Telemetry:
    """Collectors by contract name; ``t[metrics.CERTS]`` returns the collector."""

    def __init__(self, contract: Iterable[Metric]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.withheld: frozenset[str] = frozenset()
        self._by_name: dict[str, Any] = {}
        for m in contract:
            self._by_name[m.name] = _build(m, self.registry)

    def __getitem__(self, metric: Metric) -> Any:
        return self._by_name[metric.name]

    def withhold(self, names: Iterable[str]) -> None:
        """Leave these metrics out of the exposition (``--without-metric``): a fabric that
        lacks part of the contract, for ``pfdrill fabric check`` and its tests."""
        self.withheld = frozenset(names)

    def collect(self) -> Iterable[Any]:
        return (f for f in self.registry.collect()
                if f.name not in self.withheld and f"{f.name}_total" not in self.withheld)

    def render(self) -> bytes:
        out: bytes = prometheus_client.generate_latest(self)
        return out

    def samples(self) -> list[dict[str, Any]]:
        """Every current sample, for the state dump."""
        out = []
        for family in self.registry.collect():
            for s in family.samples:
                out.append({"name": s.name, "labels": dict(s.labels), "value": s.value})
        return out


def _build(m: Metric, registry: CollectorRegistry) -> Any:
    if m.kind is Kind.COUNTER:
        return Counter(m.name, m.help, m.labels, registry=registry)
    if m.kind is Kind.GAUGE:
        return Gauge(m.name, m.help, m.labels, registry=registry)
    return Histogram(m.name, m.help, m.labels, registry=registry, buckets=DURATION_BUCKETS)
