"""The drill environment as a whole: what is up, where, and how to reach it.

``up`` is idempotent and fast when everything already runs, so ``make drill``
and the test session can call it unconditionally.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pfdrill.cluster import incluster
from pfdrill.cluster import provider as providers
from pfdrill.cluster.kwok import KwokProvider
from pfdrill.cluster.provider import Provider, ProviderKind
from pfdrill.model.cluster import ClusterStatus
from pfdrill.model.fabric import RuntimeFiles
from pfdrill.runtime import reconciler
from pfdrill.settings.config import Config, load_config
from pfdrill.settings.paths import Paths

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class StackInfo:
    """Where the parts of a running drill environment are."""

    name: str
    provider: str
    kubeconfig: str
    context: str
    namespace: str
    runtime_dir: str = ""  # kwok only: state, targets.json, services.json
    cluster: ClusterStatus | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["cluster"] = self.cluster.to_dict() if self.cluster else None
        return d

    @property
    def targets_file(self) -> Path | None:
        return RuntimeFiles(Path(self.runtime_dir)).targets if self.runtime_dir else None

    @property
    def services_file(self) -> Path | None:
        return RuntimeFiles(Path(self.runtime_dir)).services if self.runtime_dir else None

    def service_address(self, namespace: str, service: str) -> str | None:
        """``host:port`` of a Service: the kwok runtime's proxy, else (in a pod) the kubelet's
        service variables for the pod's own namespace; None when neither knows it."""
        if self.services_file is None:  # not kwok: in a pod, the kubelet's service variables
            return incluster.service_address(service)
        if not self.services_file.is_file():
            return None
        data = json.loads(self.services_file.read_text())
        entry = data.get(f"{namespace}/{service}")
        return str(entry["address"]) if entry else None


@dataclasses.dataclass
class Stack:
    kind: ProviderKind = ProviderKind.KWOK
    name: str = "pfdrill"
    paths: Paths = dataclasses.field(default_factory=Paths.from_env)
    config: Config = dataclasses.field(default_factory=load_config)
    kubeconfig: str | None = None
    context: str | None = None
    provider_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    in_cluster: bool = False  # existing only: pfdrill runs in a pod, as its ServiceAccount

    def provider(self) -> Provider:
        opts = dict(self.provider_options)
        if self.kind is ProviderKind.EXISTING:
            opts.update(kubeconfig=self.kubeconfig, context=self.context, config=self.config,
                        in_cluster=self.in_cluster, paths=self.paths)
        else:
            opts.setdefault("paths", self.paths)
        return providers.create(self.kind, name=self.name, **opts)

    @property
    def runtime_dir(self) -> Path:
        return reconciler.runtime_dir(self.paths.state, self.name)

    def info(self, cluster: ClusterStatus | None = None) -> StackInfo:
        p = self.provider()
        context = p.context()
        runtime = str(self.runtime_dir) if self.kind is ProviderKind.KWOK else str(
            runtime_dir_for(context, self.paths) or "")
        return StackInfo(
            name=self.name, provider=self.kind.value, kubeconfig=str(p.kubeconfig()),
            context=context, namespace=self.config.namespace, runtime_dir=runtime,
            cluster=cluster)

    def up(self, progress: Progress = _quiet) -> StackInfo:
        p = self.provider()
        from pfdrill.cluster import guard

        guard.check_context(self.config, p.context())
        st = self._up_kwok(p, progress) if isinstance(p, KwokProvider) else p.up(progress)
        info = self.info(st)
        self._record(info)
        return info

    def _up_kwok(self, p: KwokProvider, progress: Progress) -> ClusterStatus:
        """Create the cluster and start the runtime side by side: the runtime's own start-up
        (imports, first list) overlaps the wait for nodes and the default service account."""
        current = p.status()
        started = time.monotonic()
        if not current.running:
            p.create(progress)
        pid = reconciler.spawn_detached(p.kubeconfig(), p.context(), self.runtime_dir)
        st = current if current.running else p.wait_ready(progress, started)
        if current.running:
            progress(f"[cluster] kwok cluster {self.name!r} already running at {current.server}")
        reconciler.wait_started(self.runtime_dir, pid)
        progress(f"[runtime] process runtime running (pid {pid}, state {self.runtime_dir})")
        return st

    def owns_fabric(self) -> bool:
        """Whether pfdrill may deploy its reference fabric here (``Config.deploy_fabric``):
        by default only into a cluster pfdrill created itself, never an existing one."""
        if self.config.deploy_fabric is not None:
            return self.config.deploy_fabric
        return self.kind is not ProviderKind.EXISTING

    def up_all(self, profile: str = "drill", progress: Progress = _quiet, *,
               lease_wait_s: float = 0.0) -> StackInfo:
        """Everything a drill needs, idempotently: cluster, runtime, sink + Prometheus +
        Alertmanager in ``profile`` (unless the config names an in-cluster Prometheus),
        and the fabric ready.

        Nothing changes while another run holds the drill Lease: a running cluster's
        lease is checked first (:class:`~pfdrill.errors.LeaseHeld`, exit 3, names the
        holder; ``lease_wait_s`` waits for it first). A running fabric is only verified:
        its drift from the manifests is reported, never re-applied (it may be a drill's
        fault or mitigation); the reference fabric is deployed only where none runs and
        :meth:`owns_fabric`.
        """
        from pfdrill.cluster import lease
        from pfdrill.cluster.client import KubeClient
        from pfdrill.detect import pipeline
        from pfdrill.fabric import deploy, readiness

        p = self.provider()
        if p.status().running:
            lease.wait_free(KubeClient(p.kubeconfig(), p.context()), self.config.namespace,
                            wait_s=lease_wait_s, progress=progress)
        info = self.up(progress)
        client = KubeClient(info.kubeconfig, info.context)
        if self.in_cluster:
            # From inside a pod nothing is brought up or deployed: the ServiceAccount may
            # only drill the fabric that is there (and has no right to do more).
            status = deploy.status(client, self.config.namespace)
            found = ", ".join(f"{d.name} {d.ready}/{d.replicas}" for d in status.deployments)
            progress(f"[fabric] in-cluster: drilling the fabric in {status.namespace} "
                     f"({found or 'no workloads found'}); nothing deployed")
            return info
        if info.targets_file is not None and not self.config.prometheus_url:
            ep = pipeline.up(self.name, profile, targets_file=info.targets_file, paths=self.paths)
            progress(f"[obs] Prometheus {ep.prometheus_url}, Alertmanager {ep.alertmanager_url}, "
                     f"sink {ep.sink_url} ({profile} profile)")
        elif self.kind is ProviderKind.KWOK:
            pipeline.start_sink(pipeline.sink_dir(self.name, self.paths))
        pods = readiness.pod_http(client, info.runtime_dir or runtime_dir_for(
            info.context, self.paths))
        ns = self.config.namespace
        if not deploy.present(client, ns) and self.owns_fabric():
            status = deploy.deploy(client, target=self.kind, config=self.config, paths=self.paths,
                                   timeout_s=180,
                                   pod_http=pods)
            ready = ", ".join(f"{d.name} {d.ready}/{d.replicas}" for d in status.deployments)
            progress(f"[fabric] deployed in {status.namespace}: {ready}; enforcement_mode="
                     f"{status.enforcement_mode}")
            return info
        got = readiness.check(client, ns, pod_http=pods)
        whose = "reference fabric" if self.owns_fabric() else "fabric (not deployed by pfdrill)"
        progress(f"[fabric] {whose} running in {ns}, verified only: "
                 f"{'ready' if got.ok else got.describe()}")
        if self.owns_fabric():
            for line in deploy.drift(client, deploy.render_for(
                    client.context, target=self.kind, config=self.config, paths=self.paths)):
                progress(f"[fabric] drift (not re-applied): {line}")
        return info

    def down(self, progress: Progress = _quiet) -> None:
        from pfdrill.detect import pipeline

        stopped = pipeline.down(self.name, self.paths)
        if stopped:
            progress(f"[obs] stopped {', '.join(stopped)}")
        if self.kind is ProviderKind.KWOK and reconciler.stop_detached(self.runtime_dir):
            progress("[runtime] process runtime stopped")
        self.provider().down(progress)
        (self.paths.state / "stacks" / f"{self.name}.json").unlink(missing_ok=True)

    def status(self) -> StackInfo:
        return self.info(self.provider().status())

    def _record(self, info: StackInfo) -> None:
        _write_json(self.paths.state / "stacks" / f"{self.name}.json", info.to_dict())


def runtime_dir_for(context: str, paths: Paths) -> Path | None:
    """The kwok process runtime of a pfdrill kwok cluster reached as ``existing``, if any
    (its shortcut to pod ports); ``None`` for any other cluster."""
    if not context.startswith("kwok-"):
        return None
    found = reconciler.runtime_dir(paths.state, context.removeprefix("kwok-"))
    return found if RuntimeFiles(found).running() else None


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)

