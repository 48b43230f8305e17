"""A simulated fabric for unit tests: metrics that follow the cluster's configuration.

:class:`SimulatedFabric` is a :class:`~pfdrill.faults.metrics.MetricsReader`
over a :class:`~pfdrill.cluster.fake.FakeCluster`. It exports what the real
watchers would, as a function of what the faults change: the enforcement mode
and ``bridge_guarantee_local_checks_ok`` from ``policy-config``,
``dfa_integrity_ok`` from ``dfa-artifact``, ``trust_bundle_ok`` and certificate
failures from ``fabric-certs``, adapter errors (or fail-open passes) while
``policy-adapter`` has no replica or its knobs say so, latency from
``fabric-chaos``. Counters grow with a virtual clock (:meth:`advance`,
or ``sleep`` handed to the :class:`FaultContext`) at a steady request rate with
4% rejections, one pod per watcher replica. Traffic that faults generate
with locust is outside it: those faults are tested on the real cluster.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import InvalidInput, ObjectNotFound
from pfdrill.fabric import certs, deploy
from pfdrill.fabric import dfa as dfa_mod
from pfdrill.fabric.authority import Authority
from pfdrill.fabric.manifests import Obj
from pfdrill.fabric.policy import ConfigRefused, PolicyConfig
from pfdrill.faults.context import FaultContext
from pfdrill.faults.metrics import Scrape
from pfdrill.formats.exposition import Series, series_key
from pfdrill.model import metrics as m
from pfdrill.model.fabric import FABRIC
from pfdrill.model.signals import Signals
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths

RATE = 20.0  # requests per second per watcher
REJECT_SHARE = 0.04
LATENCY_S = 0.002


class SimulatedFabric:
    def __init__(self, cluster: FakeCluster, namespace: str = "production",
                 ca_key_id: str | None = None) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.ca_key_id = ca_key_id  # the key id certificates carry; None: any parsed bundle verifies
        self.now = 0.0
        self._totals: dict[str, Series] = {}
        self._last = 0.0

    # --- the virtual clock -----------------------------------------------------------
    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._accumulate()
        self.now += max(0.0, seconds)

    # --- what the configuration means ----------------------------------------------
    def _cm(self, name: str) -> dict[str, str]:
        try:
            return self.cluster.get_configmap(self.namespace, name)
        except ObjectNotFound:
            return {}

    def _config(self) -> PolicyConfig:
        try:
            return PolicyConfig.parse(self._cm(FABRIC.policy_config))
        except ConfigRefused:
            return PolicyConfig()

    def dfa_ok(self) -> bool:
        """The ``dfa-artifact`` loads (its sha256 matches): what the watchers check."""
        try:
            dfa_mod.load_artifact({k: v.encode() for k, v in self._cm(FABRIC.dfa_artifact).items()})
        except dfa_mod.DfaRefused:
            return False
        return True

    def bundle(self) -> certs.TrustBundle | None:
        """The trust bundle in ``fabric-certs`` as the watchers parse it, or None if refused."""
        try:
            raw = self.cluster.get_secret(self.namespace, FABRIC.certs_secret).get(certs.BUNDLE_KEY, b"")
            return certs.TrustBundle.parse(raw)
        except (ObjectNotFound, InvalidInput):
            return None

    def adapter_down(self) -> bool:
        try:
            replicas = self.cluster.get_deployment(self.namespace, FABRIC.adapter).replicas
        except ObjectNotFound:
            return True
        knobs = self._cm(FABRIC.adapter_config)
        return replicas == 0 or float(knobs.get("error_rate") or 0) > 0 or \
            float(knobs.get("added_latency_ms") or 0) > self._config().adapter_timeout_ms

    def _pods(self) -> list[str]:
        return sorted(p.name for p in self.cluster.list_pods(self.namespace, "app=sidecar-watcher")
                      if not p.deleting)

    def _gauges(self) -> Series:
        cfg = self._config()
        bundle = self.bundle()
        dfa_ok = self.dfa_ok()
        deciding = cfg.enforcement_mode.value in ("enforce", "monitor", "shadow")
        out: Series = {series_key(m.ENFORCEMENT_MODE.name, {"mode": mode}):
                       1.0 if mode == cfg.enforcement_mode.value else 0.0 for mode in m.ENFORCEMENT_MODES}
        out[m.DFA_INTEGRITY_OK.name] = 1.0 if dfa_ok else 0.0
        out[m.TRUST_BUNDLE_OK.name] = 1.0 if bundle is not None else 0.0
        out[m.CONFIG_LAST_RELOAD_OK.name] = 1.0
        out[m.BRIDGE_OK.name] = 1.0 if dfa_ok and bundle is not None and deciding else 0.0
        return out

    def _rates(self) -> Series:
        """Per-second growth of each counter on one watcher, under the current configuration."""
        cfg = self._config()
        bundle = self.bundle()
        cert_fail = 0.0
        if bundle is not None and self.ca_key_id is not None and self.ca_key_id not in bundle.key_ids:
            cert_fail = 1.0
        adapter_down = self.adapter_down()
        fail_open = cfg.adapter_failure_mode.value == "fail_open"
        chaos = self._cm(FABRIC.chaos_config)
        added = float(chaos.get("added_latency_ms") or 0) + float(chaos.get("cpu_burn_ms") or 0)
        rejects = REJECT_SHARE + cert_fail * (1 - REJECT_SHARE)
        if adapter_down and not fail_open:
            rejects = 1.0
        rates: Series = {
            m.REQUESTS.name: RATE,
            m.CERTS.name: RATE,
            m.CERTS_VERIFIED.name: RATE * (1 - cert_fail),
            series_key(m.PERMIT_REJECTS.name, {"reason": "permit"}): RATE * rejects,
            series_key(m.ADAPTER_ERRORS.name, {"kind": "connect"}): RATE if adapter_down else 0.0,
            m.ADAPTER_FAIL_OPEN.name: RATE if adapter_down and fail_open else 0.0,
            f"{m.MONITOR_DURATION.name}_count": RATE,
            f"{m.MONITOR_DURATION.name}_sum": RATE * (LATENCY_S + added / 1000),
            m.WITNESS_VALIDATIONS.name: RATE,
            m.WITNESS_FAILURES.name: 0.0,
            m.NI_REJECTS.name: 0.0,
            m.DFA_LOAD_FAILURES.name: 0.0 if self.dfa_ok() else 0.1,  # each reload refused
        }
        return rates

    def signals(self, *, extra_rejects: float = 0.0) -> Signals:
        """The classifier's signals (the ``pfdrill:<signal>`` recording rules of rules.yml)
        as the fabric's configuration makes them now; ``extra_rejects``/s of violating
        traffic (what locust adds in a reject-rate fault) on top."""
        gauges, rates, pods = self._gauges(), self._rates(), len(self._pods())

        def total(metric: str) -> float:
            return sum(v for k, v in rates.items() if k.partition("{")[0] == metric) * pods

        requests = total(m.REQUESTS.name)
        certs_all = total(m.CERTS.name)
        count = total(f"{m.MONITOR_DURATION.name}_count")
        mode = self._config().enforcement_mode.value
        return Signals(
            enforcement_disabled=1.0 if mode == "disabled" else 0.0, sidecars_up=float(pods),
            adapter_fail_open_rate=total(m.ADAPTER_FAIL_OPEN.name),
            high_assurance_violation_rate=0.0,
            bridge_guarantee_ok=gauges[m.BRIDGE_OK.name] if pods else None,
            dfa_integrity_ok=gauges[m.DFA_INTEGRITY_OK.name] if pods else None,
            cert_failure_ratio=(1 - total(m.CERTS_VERIFIED.name) / certs_all) if certs_all else None,
            latency_mean_seconds=total(f"{m.MONITOR_DURATION.name}_sum") / count if count else None,
            reject_rate=total(m.PERMIT_REJECTS.name) + extra_rejects,
            witness_failure_ratio=0.0, ni_reject_rate=0.0,
            config_reload_ok=gauges[m.CONFIG_LAST_RELOAD_OK.name] if pods else None,
            dfa_load_failure_rate=total(m.DFA_LOAD_FAILURES.name),
            adapter_error_ratio=total(m.ADAPTER_ERRORS.name) / requests if requests else None,
            enforcement_relaxed=1.0 if mode in ("monitor", "shadow", "break_glass") else 0.0,
            measured_at=self.now)

    def _accumulate(self) -> None:
        span = self.now - self._last
        self._last = self.now
        if span <= 0:
            return
        rates = self._rates()
        for pod in self._pods():
            totals = self._totals.setdefault(pod, {})
            for key, per_s in rates.items():
                totals[key] = totals.get(key, 0.0) + per_s * span

    def close(self) -> None:
        return None

    def scrape(self, job: str) -> Scrape:
        self._accumulate()
        if job != m.JOB_WATCHER:
            return Scrape(job, self.now, {})
        gauges = self._gauges()
        pods = {pod: {**self._totals.get(pod, {}), **gauges} for pod in self._pods()}
        return Scrape(job, self.now, pods)


NS = "production"
CONTEXT = "kwok-pfdrill-fake"
CONFIGMAPS = FABRIC.configmaps
DEPLOYMENTS = FABRIC.deployments


@dataclasses.dataclass
class FabricWorld:
    """The reference fabric's objects on a FakeCluster, a simulated fabric, and a context on both."""

    cluster: FakeCluster
    sim: SimulatedFabric
    ctx: FaultContext
    paths: Paths

    def snapshot(self) -> dict[str, Any]:
        """ConfigMaps, Secrets and replica counts: what no fault may leave changed."""
        ns = self.ctx.namespace
        return {
            "configmaps": {n: self.cluster.get_configmap(ns, n) for n in CONFIGMAPS},
            "secrets": {FABRIC.certs_secret: self.cluster.get_secret(ns, FABRIC.certs_secret)},
            "replicas": {d: self.cluster.get_deployment(ns, d).replicas for d in DEPLOYMENTS},
        }

    def later_context(self) -> FaultContext:
        """What another process would build: same cluster and state dir, nothing shared in memory."""
        return FaultContext(self.cluster, self.ctx.config, self.paths, metrics=self.sim,
                            clock=self.sim.clock, sleep=self.sim.sleep)


def seed(cluster: FakeCluster, objects: Iterable[Obj], config: Config, *,
         opted_in: bool = True) -> None:
    """Put the reference fabric's rendered objects on ``cluster``, as ``kubectl apply`` would."""
    ns = config.namespace
    cluster.add_namespace(ns, {config.optin_key: config.optin_value} if opted_in else {})
    for obj in objects:
        name = obj["metadata"]["name"]
        if obj["kind"] == "ConfigMap":
            cluster.add_configmap(ns, name, {k: str(v) for k, v in (obj.get("data") or {}).items()})
        elif obj["kind"] == "Secret":
            cluster.add_secret(ns, name, {k: base64.b64decode(v) for k, v in obj["data"].items()})
        elif obj["kind"] == "Deployment":
            cluster.add_deployment(ns, name, int(obj["spec"]["replicas"]), {"app": name})
    cluster.calls.clear()


def fabric_world(directory: Path, *, opted_in: bool = True, config: Config | None = None,
                 context: str = CONTEXT) -> FabricWorld:
    """The fabric as ``pfdrill fabric deploy`` renders it, on a FakeCluster (state under ``directory``)."""
    paths = Paths(cache=directory / "cache", state=directory / "state")
    cfg = config or Config()
    cluster = FakeCluster(context)
    seed(cluster, deploy.render_for(context, config=cfg, paths=paths), cfg, opted_in=opted_in)
    sim = SimulatedFabric(cluster, cfg.namespace, ca_key_id=Authority.for_context(context, paths).key_id)
    ctx = FaultContext(cluster, cfg, paths, metrics=sim, clock=sim.clock, sleep=sim.sleep)
    return FabricWorld(cluster, sim, ctx, paths)
