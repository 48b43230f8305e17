"""Reading the fabric's own metrics per pod, to prove a fault and to measure baselines.

A fault's proof must observe the fault itself (an error rate, a gauge), not
the alert it raises, so it reads the watchers' ``/metrics`` directly: on the
kwok cluster every pod's address is in the process runtime's file-SD
``targets.json``; elsewhere Prometheus holds the same series. Either way the
result is a :class:`Scrape` — series values per pod — and rates come from two
scrapes, per pod, so a pod that restarts (counter reset) or goes away does
not produce a negative rate.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import httpx

from pfdrill.errors import InvalidInput, ServiceUnavailable
from pfdrill.formats import exposition
from pfdrill.formats.exposition import Series, series_key
from pfdrill.model import metrics as m
from pfdrill.obs.api import PrometheusAPI


@functools.cache
def baseline_floor(signal: str) -> float:
    """The floor under a relative signal's baseline (``baseline_floors`` in thresholds.yaml),
    the one the alert rules and the classifier divide by, so a fault aims at the same."""
    from pfdrill.classify import thresholds

    return thresholds.load().floor(signal)


@dataclasses.dataclass(frozen=True)
class Scrape:
    """Series per pod of one job at one moment (``at``: monotonic seconds)."""

    job: str
    at: float
    pods: dict[str, Series]

    def total(self, name: str, labels: Mapping[str, str] | None = None) -> float:
        key = series_key(name, labels)
        return sum(series.get(key, 0.0) for series in self.pods.values())

    def values(self, name: str, labels: Mapping[str, str] | None = None) -> list[float]:
        """The series' value on each pod that has it."""
        key = series_key(name, labels)
        return [series[key] for series in self.pods.values() if key in series]

    def to_flat(self) -> dict[str, float]:
        """For the state file: ``pod|series`` -> value."""
        return {f"{pod}|{k}": v for pod, series in self.pods.items() for k, v in series.items()}

    @classmethod
    def from_flat(cls, job: str, flat: Mapping[str, float], at: float = 0.0) -> Scrape:
        pods: dict[str, Series] = {}
        for key, value in flat.items():
            pod, _, series = key.partition("|")
            pods.setdefault(pod, {})[series] = value
        return cls(job, at, pods)


def delta(before: Scrape, after: Scrape, name: str, labels: Mapping[str, str] | None = None) -> float:
    """How much a counter grew between two scrapes, summed per pod (resets count from zero)."""
    key = series_key(name, labels)
    grown = 0.0
    for pod, series in after.pods.items():
        now = series.get(key)
        if now is None:
            continue
        then = before.pods.get(pod, {}).get(key, 0.0)
        grown += now - then if now >= then else now
    return grown


def rate(before: Scrape, after: Scrape, name: str, labels: Mapping[str, str] | None = None) -> float:
    span = after.at - before.at
    return delta(before, after, name, labels) / span if span > 0 else 0.0


def reject_total_delta(before: Scrape, after: Scrape) -> float:
    """Rejections of every reason (``permit_rejects_total`` is labelled by reason)."""
    return sum(delta(before, after, m.PERMIT_REJECTS.name, {"reason": r}) for r in m.REJECT_REASONS)


def adapter_error_delta(before: Scrape, after: Scrape) -> float:
    return sum(delta(before, after, m.ADAPTER_ERRORS.name, {"kind": k}) for k in m.ADAPTER_ERROR_KINDS)


def mean_latency_s(before: Scrape, after: Scrape) -> float | None:
    """Mean decision latency between two scrapes, from the histogram's sum and count."""
    count = delta(before, after, f"{m.MONITOR_DURATION.name}_count")
    if count <= 0:
        return None
    return delta(before, after, f"{m.MONITOR_DURATION.name}_sum") / count


class MetricsReader(Protocol):
    def scrape(self, job: str) -> Scrape: ...

    def close(self) -> None: ...


class TargetsFileReader:
    """Scrape every pod listed in the process runtime's ``targets.json`` (kwok)."""

    def __init__(self, targets_file: Path, namespace: str, timeout_s: float = 2.0) -> None:
        self.targets_file = targets_file
        self.namespace = namespace
        self._timeout_s = timeout_s
        self._client = httpx.Client(timeout=timeout_s)

    def _targets(self, job: str) -> list[tuple[str, str]]:
        try:
            groups = json.loads(self.targets_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ServiceUnavailable(f"cannot read scrape targets {self.targets_file}: {exc}") from None
        out = []
        for group in groups:
            labels = group.get("labels") or {}
            if labels.get("job") != job or labels.get("namespace") != self.namespace:
                continue
            path = labels.get("__metrics_path__", "/metrics")
            for address in group.get("targets") or []:
                out.append((str(labels.get("pod", address)), f"http://{address}{path}"))
        return out

    def close(self) -> None:
        """Let go of the pooled connections; a later scrape opens new ones (the reader may
        sit in a cached :class:`~pfdrill.faults.context.FaultContext` another user shares)."""
        self._client.close()
        self._client = httpx.Client(timeout=self._timeout_s)

    def scrape(self, job: str) -> Scrape:
        pods: dict[str, Series] = {}
        for pod, url in self._targets(job):
            try:
                response = self._client.get(url)
            except httpx.HTTPError:
                continue  # a pod that is going away: it simply has no series
            if response.status_code == 200:
                try:
                    pods[pod] = exposition.samples(response.text, url)
                except InvalidInput as exc:
                    raise ServiceUnavailable(f"pod {pod} serves metrics that are not the "
                                             f"Prometheus text format: {exc}") from None
        return Scrape(job, time.monotonic(), pods)


class PrometheusReader:
    """The same series from a Prometheus that scrapes the fabric (kind, existing clusters)."""

    def __init__(self, url: str, namespace: str) -> None:
        self.api = PrometheusAPI(url)
        self.namespace = namespace

    def close(self) -> None:
        self.api.close()

    def scrape(self, job: str) -> Scrape:
        samples = self.api.query(f'{{job="{job}",namespace="{self.namespace}"}}')
        pods: dict[str, Series] = {}
        for s in samples:
            labels = dict(s.labels)
            name = labels.pop("__name__", "")
            pod = labels.pop("pod", "") or labels.get("instance", "")
            for drop in ("job", "namespace", "instance"):
                labels.pop(drop, None)
            if name and name != "up":
                pods.setdefault(pod, {})[series_key(name, labels)] = s.value
        return Scrape(job, time.monotonic(), pods)
