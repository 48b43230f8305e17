"""Watching the world around a drill: alerts, notifications, the cluster — as observations.

Each :class:`Poller` looks once per call and returns what changed since its
last look (:mod:`.diff`); :class:`WorldWatch` calls them on a background
thread and publishes what they found. A source that cannot be read is
reported once as a warning observation and tried again next time: a live
view never stops because Prometheus restarted. :class:`Surroundings` finds
the servers and the cluster of a running stack (``pfdrill cluster up``).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from pfdrill.cluster.client import ClusterClient, deployment_state
from pfdrill.dashboard import diff
from pfdrill.dashboard.ticker import Ticker
from pfdrill.errors import PfdrillError
from pfdrill.model.cluster import DeploymentState
from pfdrill.model.live import Observation, Source
from pfdrill.obs.api import PrometheusAPI
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths
from pfdrill.sink.client import SinkClient

log = logging.getLogger(__name__)


class Poller(Protocol):
    source: Source

    def poll(self, wall: float) -> list[Observation]:
        """What changed since the last call (the first call sets the starting point)."""
        ...


class AlertPoller:
    """Prometheus' alerts: pending, firing, resolved (the first look reports what is active)."""

    source = Source.PROMETHEUS

    def __init__(self, prometheus: PrometheusAPI) -> None:
        self._prom = prometheus
        self._look: dict[str, tuple[str, str, str]] = {}

    def poll(self, wall: float) -> list[Observation]:
        now = {diff.alert_key(a.name, a.labels): (a.name, a.state, a.labels.get("severity", ""))
               for a in self._prom.alerts()}
        out = diff.alerts(self._look, now, wall)
        self._look = now
        return out


class SinkPoller:
    """Notifications the sink received after ``since`` (Unix seconds)."""

    source = Source.SINK

    def __init__(self, sink: SinkClient, since: float) -> None:
        self._sink = sink
        self._since = since
        self._seen: set[int] = set()

    def poll(self, wall: float) -> list[Observation]:
        out = []
        for n in self._sink.records(since=self._since):
            if n.seq in self._seen or n.received_at <= self._since:
                continue
            self._seen.add(n.seq)
            out.append(diff.notification(n))
        return out


class ClusterPoller:
    """ConfigMap and Deployment changes, and new events, in the drill namespace."""

    source = Source.KUBERNETES

    def __init__(self, cluster: ClusterClient, namespace: str) -> None:
        self._c = cluster
        self._ns = namespace
        self._configmaps: dict[str, dict[str, str]] | None = None
        self._deployments: dict[str, DeploymentState] = {}
        self._events: set[tuple[str, ...]] = set()

    def poll(self, wall: float) -> list[Observation]:
        cms = {str((o.get("metadata") or {}).get("name")): {str(k): str(v) for k, v in (
            o.get("data") or {}).items()} for o in self._c.list_objects("v1", "ConfigMap",
                                                                         self._ns)}
        deps = {d.name: d for d in (deployment_state(o) for o in self._c.list_objects(
            "apps/v1", "Deployment", self._ns))}
        evs = self._c.list_events(self._ns)
        if self._configmaps is None:  # the starting point: only changes from here on
            self._configmaps, self._deployments = cms, deps
            self._events = {diff.event_key(e) for e in evs}
            return []
        out = [*diff.configmaps(self._configmaps, cms, wall),
               *diff.deployments(self._deployments, deps, wall),
               *diff.events(self._events, evs, wall)]
        self._configmaps, self._deployments = cms, deps
        return out


class WorldWatch:
    """Calls every poller every ``interval_s`` on a thread of its own; publishes what they saw."""

    def __init__(self, pollers: Sequence[Poller], publish: Callable[[Observation], None], *,
                 interval_s: float = 1.0, clock: Callable[[], float] = time.time) -> None:
        self.pollers = list(pollers)
        self._publish = publish
        self._clock = clock
        self._ticker = Ticker(self.poll_once, interval_s, "pfdrill-world")
        self._failing: set[int] = set()

    def poll_once(self) -> None:
        for i, p in enumerate(self.pollers):
            try:
                found = p.poll(self._clock())
            except PfdrillError as exc:
                if i not in self._failing:  # say it once, not every second
                    self._failing.add(i)
                    self._publish(Observation(self._clock(), p.source, "unavailable",
                                              p.source.value, f"{p.source.value}: {exc}",
                                              "warning"))
                continue
            except Exception:  # a live view must outlive one bad answer
                log.exception("poller %s failed", p.source.value)
                continue
            self._failing.discard(i)
            for o in found:
                self._publish(o)

    def start(self) -> None:
        self.poll_once()  # the starting point, before anything else happens
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()


@dataclasses.dataclass(frozen=True)
class Surroundings:
    """The servers and cluster around a drill environment, as a running stack names them."""

    kubeconfig: str
    context: str
    namespace: str
    prometheus_url: str
    alertmanager_url: str = ""
    sink_url: str = ""
    rules_file: str = ""
    rules_configmap: str = ""  # Prometheus in the cluster: its rules ConfigMap name[/key]
    runtime_dir: str = ""
    kubectl: str = ""
    profile: str = "drill"

    @classmethod
    def of_stack(cls, *, name: str = "pfdrill", provider: str = "kwok",
                 kubeconfig: Path | None = None, context: str | None = None,
                 config: Config, paths: Paths | None = None) -> Surroundings:
        from pfdrill.cluster.provider import ProviderKind
        from pfdrill.obs import rules as obs_rules
        from pfdrill.obs import stack as obs_stack
        from pfdrill.stack.lifecycle import Stack

        p = paths or Paths.from_env()
        info = Stack(kind=ProviderKind.parse(provider), name=name, paths=p, config=config,
                     kubeconfig=str(kubeconfig) if kubeconfig else None,
                     context=context).info()
        ep = obs_stack.resolve(config, name, p)
        rules = str(Path(ep.rules_dir) / obs_rules.RENDERED_FILE) if ep.rules_dir else ""
        return cls(kubeconfig=info.kubeconfig, context=info.context, namespace=config.namespace,
                   prometheus_url=ep.prometheus_url, alertmanager_url=ep.alertmanager_url or "",
                   sink_url=ep.sink_url or "", rules_file=rules,
                   rules_configmap=ep.rules_configmap or "", runtime_dir=info.runtime_dir,
                   profile=ep.profile)

    def cluster(self) -> ClusterClient:
        from pfdrill.cluster.client import KubeClient

        return KubeClient(self.kubeconfig, self.context)

    def pollers(self, cluster: ClusterClient, since: float) -> list[Poller]:
        out: list[Poller] = [AlertPoller(PrometheusAPI(self.prometheus_url)),
                             ClusterPoller(cluster, self.namespace)]
        if self.sink_url:
            out.insert(1, SinkPoller(SinkClient(self.sink_url), since))
        return out
