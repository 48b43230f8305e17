"""Where faults act and how they look: the cluster, the fabric's metrics and its front door.

One :class:`FaultContext` per target cluster. It carries the guard's
configuration (allow-list, opt-in label, namespace), pfdrill's state dir (fault
state files, the cluster's CA for generated traffic), a reader for the
watchers' metrics and, when reachable from here, the watcher Service URL —
through which proofs send a few requests of their own so that a fault is
observable even when no other traffic flows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from pfdrill.cluster import guard
from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import ServiceUnavailable
from pfdrill.fabric import readiness
from pfdrill.fabric.authority import Authority
from pfdrill.faults.metrics import MetricsReader, Scrape
from pfdrill.faults.state import StateStore, safe_name
from pfdrill.load.plan import TrafficKind
from pfdrill.load.traffic import IdentitySet, Variant, variants
from pfdrill.model import metrics as m
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths


class FaultContext:
    def __init__(
        self,
        cluster: ClusterClient,
        config: Config,
        paths: Paths,
        *,
        metrics: MetricsReader | None = None,
        watcher_url: str | None = None,
        kubeconfig: Path | None = None,
        runtime_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cluster = cluster
        self.config = config
        self.paths = paths
        self.metrics = metrics
        self.watcher_url = watcher_url.rstrip("/") if watcher_url else None
        self.kubeconfig = kubeconfig
        self.pods = readiness.pod_http(cluster, runtime_dir)
        self.clock = clock
        self.sleep = sleep
        self._identities: IdentitySet | None = None
        self._http: httpx.Client | None = None

    @property
    def namespace(self) -> str:
        return self.config.namespace

    @property
    def context(self) -> str:
        return self.cluster.context

    @property
    def store(self) -> StateStore:
        return StateStore(self.paths.state / "faults")

    def work_dir(self, token: str) -> Path:
        return self.paths.state / "faults" / safe_name(self.context) / safe_name(self.namespace) / \
            "workers" / token

    def check_safe(self) -> None:
        """SafetyRefused unless the context is allowed and the namespace opted in."""
        guard.check(self.cluster, self.namespace, self.config)

    def readiness(self, require_replicas: bool = True) -> readiness.Readiness:
        """The fabric's readiness — the one predicate (:mod:`pfdrill.fabric.readiness`)."""
        return readiness.check(self.cluster, self.namespace, require_replicas=require_replicas,
                               pod_http=self.pods)

    # --- the fabric's CA and identities --------------------------------------------------
    def authority(self) -> Authority:
        return Authority.for_context(self.context, self.paths)

    def identities(self) -> IdentitySet:
        if self._identities is None:
            self._identities = IdentitySet.issue(self.authority())
        return self._identities

    # --- metrics -----------------------------------------------------------------------
    def scrape(self, job: str = m.JOB_WATCHER) -> Scrape:
        if self.metrics is None:
            raise ServiceUnavailable("no way to read the fabric's metrics: give the process "
                                     "runtime's targets file or a Prometheus URL")
        return self.metrics.scrape(job)

    def window(self, seconds: float, *, nudge: int = 10,
               job: str = m.JOB_WATCHER) -> tuple[Scrape, Scrape]:
        """Two scrapes ``seconds`` apart; ``nudge`` compliant requests sent in between."""
        before = self.scrape(job)
        started = self.clock()
        if nudge and self.watcher_url:
            self.send_compliant(nudge)
        left = seconds - (self.clock() - started)
        if left > 0:
            self.sleep(left)
        return before, self.scrape(job)

    # --- a few requests of our own ----------------------------------------------------
    def compliant_variants(self) -> list[Variant]:
        return variants(self.identities())[TrafficKind.COMPLIANT]

    def send_compliant(self, count: int) -> list[tuple[int, str]]:
        """Send ``count`` compliant decide requests; (status, reason or rule) of each.

        Unreachable watchers are not an error here: a fault may have taken them away.
        """
        if not self.watcher_url:
            return []
        if self._http is None:
            self._http = httpx.Client(timeout=3.0)
        out: list[tuple[int, str]] = []
        bodies = self.compliant_variants()
        for i in range(count):
            body = bodies[i % len(bodies)].body
            try:
                r = self._http.post(self.watcher_url + "/v1/decide", content=body,
                                    headers={"Content-Type": "application/json"})
            except httpx.HTTPError:
                out.append((0, "unreachable"))
                continue
            try:
                data = r.json()
                why = str(data.get("rule") or data.get("reason") or "")
            except ValueError:
                why = ""
            out.append((r.status_code, why))
        return out

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self.metrics is not None:
            self.metrics.close()
