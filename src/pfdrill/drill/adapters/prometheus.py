"""Prometheus adapters: detection, classification, metric series, loaded rules, live rule files.

- detection: :func:`pfdrill.detect.timing.wait` over Prometheus and the sink;
- classification: the recording rules ``pfdrill:<indicator>`` measured from
  Prometheus, judged by :func:`pfdrill.classify.classifier.classify`; the
  baseline is published on the sink, where the relative alert rules read it;
- the live alert rule files (``pfctl monitoring`` edits them), kept and restored.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import yaml

from pfdrill.classify import classifier, thresholds
from pfdrill.cluster.client import ClusterClient
from pfdrill.detect import timing
from pfdrill.drill.ports import AlertSighting
from pfdrill.model.evidence import Classification, Signal
from pfdrill.model.signals import Baseline, Signals
from pfdrill.obs.api import CONFIGMAP_SYNC_S, PrometheusAPI
from pfdrill.obs.profile import AlertTiming as ObsProfile
from pfdrill.obs.rules import RuleSet
from pfdrill.obs.stack import Endpoints
from pfdrill.sink.client import SinkClient


def wall(unix: float | None) -> dt.datetime | None:
    return None if unix is None else dt.datetime.fromtimestamp(unix, dt.UTC)


class PromDetector:
    def __init__(self, prom: PrometheusAPI, sink: SinkClient, rules: RuleSet,
                 profile: ObsProfile) -> None:
        self._prom, self._sink, self._rules, self._profile = prom, sink, rules, profile

    def wait_for_notification(self, alerts: Sequence[str], since: dt.datetime,
                              timeout_s: float) -> Sequence[AlertSighting]:
        found = timing.wait(since.timestamp(), prometheus=self._prom, sink=self._sink,
                            rules=self._rules, profile=self._profile, alerts=alerts,
                            timeout_s=timeout_s)
        return [AlertSighting(alert=a.alert, firing=wall(a.firing_at),
                              notified=wall(a.notified_at), severity_label=a.severity.value,
                              receiver="sink", bound_s=a.bound.notification_s)
                for a in found.alerts]


class PromClassifier:
    """Live signals are the rules' ``pfdrill:*`` records; the baseline is measured in preflight."""

    def __init__(self, prom: PrometheusAPI, sink: SinkClient) -> None:
        self._prom, self._sink = prom, sink

    def _signals(self) -> Signals:
        values = {name: self._prom.value(f"pfdrill:{name}") for name in Signals.names()}
        return Signals.from_dict({**values, "measured_at": dt.datetime.now(dt.UTC).timestamp()})

    def withdraw_baseline(self) -> None:
        published = self._sink.baselines()
        if published:
            self._sink.set_baselines({k: None for k in published})

    def baseline(self) -> Sequence[Signal]:
        base = Baseline.from_signals(self._signals())
        self._sink.publish_baseline(base)  # the relative alert rules read it (pfdrill_baseline)
        return [Signal(k, v) for k, v in base.gauges().items()]

    def classify(self, baseline: Sequence[Signal]) -> Classification:
        base = Baseline.from_dict({s.name: s.value for s in baseline})
        got = classifier.classify(self._signals(), base, thresholds.load())
        return Classification(severity=got.severity,
                              reasons=tuple(r.describe() for r in got.reasons))


class PromMetrics:
    def __init__(self, prom: PrometheusAPI) -> None:
        self._prom = prom

    def instant(self, query: str) -> float | None:
        return self._prom.value(query)

    def series(self, query: str, start: dt.datetime, end: dt.datetime,
               step_s: float) -> Sequence[tuple[dt.datetime, float]]:
        """The query's value every ``step_s`` from ``start`` to ``end``."""
        out: list[tuple[dt.datetime, float]] = []
        for s in self._prom.over(query, (end - start).total_seconds(), step_s,
                                 at=end.timestamp()):
            out.extend((wall(t) or end, v) for t, v in s.points)
        return sorted(out)


class PromRules:
    def __init__(self, prom: PrometheusAPI) -> None:
        self._prom = prom

    def loaded_rules(self) -> frozenset[str]:
        return frozenset(self._prom.rule_names())


class LiveRulesKeeper:
    """The live alert rule files Prometheus loads; restored (and reloaded) after a drill."""

    name = "prometheus-rules"

    def __init__(self, rules_dir: Path, reload: Callable[[], None]) -> None:
        self._dir, self._reload = rules_dir, reload

    def save(self) -> str:
        return json.dumps({p.name: p.read_text(encoding="utf-8")
                           for p in sorted(self._dir.glob("*.yml"))})

    def restore(self, saved: str) -> Sequence[str]:
        want: dict[str, str] = json.loads(saved)
        have = {p.name: p.read_text(encoding="utf-8") for p in self._dir.glob("*.yml")}
        if want == have:
            return []
        for name in set(have) - set(want):
            (self._dir / name).unlink()
        for name, text in want.items():
            (self._dir / name).write_text(text, encoding="utf-8")
        self._reload()
        return ["alert rules restored and Prometheus reloaded"]


class ConfigMapRulesKeeper:
    """The rules ConfigMap a Prometheus in the cluster loads (``pfctl monitoring`` edits
    it); restored after a drill, and Prometheus reloaded until it runs them again."""

    name = "prometheus-rules"

    def __init__(self, cluster: ClusterClient, namespace: str, ref: str, prometheus_url: str,
                 *, sync_s: float = CONFIGMAP_SYNC_S) -> None:
        self._cluster, self._ns, self._url, self._sync_s = cluster, namespace, prometheus_url, sync_s
        self._name = ref.partition("/")[0]

    def save(self) -> str:
        return json.dumps(self._cluster.get_configmap(self._ns, self._name), sort_keys=True)

    def restore(self, saved: str) -> Sequence[str]:
        want: dict[str, str] = json.loads(saved)
        if self._cluster.get_configmap(self._ns, self._name) == want:
            return []
        self._cluster.replace_configmap(self._ns, self._name, want)
        alerts = alert_names(want.values())
        with PrometheusAPI(self._url) as prom:
            tries = prom.reload_until(lambda exprs: set(exprs) == alerts, timeout_s=self._sync_s)
        return [f"alert rules ConfigMap {self._ns}/{self._name} restored; Prometheus runs them "
                f"again ({tries} reload{'s' if tries > 1 else ''})"]


def alert_names(rule_files: Iterable[str]) -> frozenset[str]:
    """The alerting rules' names in Prometheus rule files' text."""
    names: set[str] = set()
    for text in rule_files:
        doc = yaml.safe_load(text) or {}
        for group in doc.get("groups") or []:
            names.update(str(r["alert"]) for r in group.get("rules") or [] if "alert" in r)
    return frozenset(names)


def rules_keeper(endpoints: Endpoints, cluster: ClusterClient | None, namespace: str,
                 reload: Callable[[], None]) -> LiveRulesKeeper | ConfigMapRulesKeeper | None:
    """What restores the live alert rules a drill's runbook may edit: the rule files of the
    local stack or ``rules_dir``, else (with a cluster client) the in-cluster Prometheus'
    ConfigMap, else nothing."""
    if endpoints.rules_dir:
        return LiveRulesKeeper(Path(endpoints.rules_dir), reload)
    if endpoints.rules_configmap and cluster is not None:
        return ConfigMapRulesKeeper(cluster, namespace, endpoints.rules_configmap,
                                    endpoints.prometheus_url)
    return None
