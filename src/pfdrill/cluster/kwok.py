"""The embedded cluster: kwok's ``kwokctl --runtime binary`` on Go-built local binaries.

A real etcd, kube-apiserver, kube-controller-manager and kube-scheduler run as
local processes bound to 127.0.0.1, with the kwok controller faking nodes and
pod lifecycles. Every binary (kubectl too) is given to kwokctl from the
toolchain cache, so kwokctl never downloads anything. kwokctl's state lives
under pfdrill's state dir (``KWOK_WORKDIR``), and the kubeconfig is pfdrill's
own file: ``~/.kube/config`` is never touched.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import yaml

from pfdrill.cluster import kubeconfig as kubeconfig_file
from pfdrill.cluster.provider import Progress, ProviderKind
from pfdrill.cluster.runner import CommandRunner, SubprocessRunner
from pfdrill.errors import ClusterError, EnvironmentProblem, InvalidInput
from pfdrill.model.cluster import ClusterStatus
from pfdrill.proc.lineage import pid_alive
from pfdrill.settings.paths import Paths

# kwok CRDs the process runtime needs (logs, exec, port-forward) and kubectl top uses.
CRDS = ("Logs", "Exec", "PortForward", "Attach", "Metric", "ResourceUsage", "ClusterResourceUsage")
ADDONS = Path(__file__).with_name("addons")


def _quiet(_msg: str) -> None:
    return None


class KwokProvider:
    kind = ProviderKind.KWOK

    def __init__(
        self,
        name: str = "pfdrill",
        *,
        paths: Paths | None = None,
        nodes: int = 2,
        runner: CommandRunner | None = None,
        binaries: dict[str, Path] | None = None,
        kube_version: str | None = None,
        etcd_version: str | None = None,
        ready_timeout: float = 60.0,
    ) -> None:
        if not name or not name.replace("-", "").isalnum() or name != name.lower():
            raise InvalidInput(f"cluster name {name!r}: use lower-case letters, digits and '-'")
        if nodes < 1:
            raise InvalidInput(f"nodes must be at least 1 (got {nodes})")
        self.name = name
        self.paths = paths or Paths.from_env()
        self.nodes = nodes
        self.runner = runner or SubprocessRunner()
        self._binaries = binaries
        self._kube_version = kube_version
        self._etcd_version = etcd_version
        self.ready_timeout = ready_timeout

    # locations --------------------------------------------------------------
    @property
    def workdir(self) -> Path:
        return self.paths.state / "kwok"

    @property
    def cluster_dir(self) -> Path:
        return self.workdir / "clusters" / self.name

    @property
    def config_path(self) -> Path:
        return self.paths.cluster_dir(self.name) / "kwokctl.yaml"

    def kubeconfig(self) -> Path:
        return self.paths.cluster_dir(self.name) / "kubeconfig"

    def context(self) -> str:
        return f"kwok-{self.name}"

    # toolchain ----------------------------------------------------------------
    def binaries(self) -> dict[str, Path]:
        if self._binaries is None:
            from pfdrill.toolchain import build

            tc = build.load(paths=self.paths)
            self._binaries = {n: tc.path(n) for n in (
                "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl",
                "etcd", "kwok", "kwokctl", "metrics-server")}
            self._kube_version = self._kube_version or tc.versions.kubernetes
            self._etcd_version = self._etcd_version or tc.versions.etcd
        return self._binaries

    def kwokctl_config(self) -> dict[str, object]:
        """Every binary local; nothing for kwokctl to download (check with ``--dry-run``)."""
        b = self.binaries()
        return {
            "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
            "kind": "KwokctlConfiguration",
            "options": {
                "runtime": "binary",
                "kubeVersion": self._kube_version or "v1.36.1",
                "etcdVersion": (self._etcd_version or "v3.6.10").lstrip("v"),
                "bindAddress": "127.0.0.1",
                "kubeApiserverBinary": str(b["kube-apiserver"]),
                "kubeControllerManagerBinary": str(b["kube-controller-manager"]),
                "kubeSchedulerBinary": str(b["kube-scheduler"]),
                "kubectlBinary": str(b["kubectl"]),
                "etcdBinary": str(b["etcd"]),
                "etcdctlBinary": str(b["etcd"]),
                "kwokControllerBinary": str(b["kwok"]),
                "metricsServerBinary": str(b["metrics-server"]),
                # A local kustomize dir: kwokctl builds it with kubectl, nothing is fetched.
                "metricsServerManifests": [str(ADDONS / "metrics-server")],
                "quietPull": True,
            },
        }

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["KWOK_WORKDIR"] = str(self.workdir)
        # kwokctl must not fall back to a download: make every remote URL unreachable too.
        # (Components inherit this env; everything they talk to is local.)
        env["HTTPS_PROXY"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"
        env["NO_PROXY"] = "127.0.0.1,localhost"
        return env

    def _kwokctl(self, *args: str, timeout: float = 120.0, config: bool = True) -> str:
        kwokctl = str(self.binaries()["kwokctl"])
        cmd = [kwokctl, "--name", self.name]
        if config:
            cmd += ["-c", str(self.config_path)]
        cmd += list(args)
        done = self.runner.run(cmd, env=self._env(), timeout=timeout)
        if done.returncode != 0:
            raise ClusterError(f"kwokctl {' '.join(args[:2])} failed: {done.last_error()}")
        return done.stdout + done.stderr

    def create_command(self) -> list[str]:
        """The kwokctl arguments for creating the cluster (also used by the benchmark)."""
        return ["create", "cluster", "--kubeconfig", str(self.kubeconfig()),
                "--enable-crds", ",".join(CRDS), "--enable", "metrics-server",
                "--wait", f"{int(self.ready_timeout)}s"]

    def write_config(self) -> None:
        """kwokctl's config, and the pod/node stages kwok plays (``addons/stages.yaml``)."""
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        stages = [d for d in yaml.safe_load_all((ADDONS / "stages.yaml").read_text()) if d]
        self.config_path.write_text(yaml.safe_dump_all([self.kwokctl_config(), *stages],
                                                       sort_keys=False))

    def dry_run(self) -> str:
        """What kwokctl would do; used to prove it downloads nothing."""
        self.write_config()
        return self._kwokctl("--dry-run", *self.create_command())

    # lifecycle -------------------------------------------------------------
    def up(self, progress: Progress = _quiet) -> ClusterStatus:
        current = self.status()
        if current.running:
            progress(f"[cluster] kwok cluster {self.name!r} already running at {current.server}")
            return current
        started = time.monotonic()
        self.create(progress)
        return self.wait_ready(progress, started)

    def create(self, progress: Progress = _quiet) -> None:
        """Start the control plane and the nodes; the API answers when this returns."""
        if self.cluster_dir.exists():
            progress(f"[cluster] removing stale kwok cluster {self.name!r}")
            self.down()
        self.write_config()
        progress(f"[cluster] creating kwok cluster {self.name!r} (kube {self._kube_version}, binary runtime)")
        self._kwokctl(*self.create_command(), timeout=self.ready_timeout + 30)
        from pfdrill.cluster.client import KubeClient

        metric = yaml.safe_load((ADDONS / "metrics-resource.yaml").read_text())
        KubeClient(self.kubeconfig(), self.context()).apply(
            [*self.node_objects(), metric], field_manager="pfdrill")

    def node_objects(self) -> list[dict[str, object]]:
        """The fake nodes, reachable as a kubelet would be: at 127.0.0.1.

        kwokctl's own ``scale node`` gives nodes TEST-NET InternalIPs (192.0.2.x),
        which on some machines are real, foreign addresses. metrics-server dials a
        node's InternalIP, so pfdrill's nodes advertise loopback, where the kwok
        controller serves the kubelet API.
        """
        nodes: list[dict[str, object]] = []
        for i in range(self.nodes):
            name = f"kwok-node-{i}"
            nodes.append({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {"kwok.x-k8s.io/node": "fake",
                                    "metrics.k8s.io/resource-metrics-path":
                                        f"/metrics/nodes/{name}/metrics/resource"},
                    "labels": {"type": "kwok", "kubernetes.io/hostname": name,
                               "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                               "node-role.kubernetes.io/agent": ""}},
                "spec": {"podCIDR": f"10.0.{i}.0/24", "podCIDRs": [f"10.0.{i}.0/24"]},
                "status": {
                    "addresses": [{"type": "Hostname", "address": "localhost"},
                                  {"type": "InternalIP", "address": "127.0.0.1"}],
                    "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                    "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}},
            })
        return nodes

    def wait_ready(self, progress: Progress = _quiet, started: float | None = None) -> ClusterStatus:
        """Nodes Ready and the default service account present (pods need it)."""
        from pfdrill.cluster.client import KubeClient

        begin = started if started is not None else time.monotonic()
        client = KubeClient(self.kubeconfig(), self.context())
        deadline = begin + self.ready_timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                nodes = client.list_objects("v1", "Node", None)
                ready = [n["metadata"]["name"] for n in nodes if any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (n.get("status") or {}).get("conditions") or [])]
                sa = client.get_object("v1", "ServiceAccount", "default", "default")
                if len(ready) >= self.nodes and sa is not None:
                    server = _server_of(self.kubeconfig(), self.context())
                    progress(f"[cluster] ready in {time.monotonic() - begin:.1f}s: {server} "
                             f"({len(ready)} nodes), kubeconfig {self.kubeconfig()}")
                    return ClusterStatus(
                        name=self.name, provider=self.kind.value, context=self.context(),
                        kubeconfig=str(self.kubeconfig()), running=True, server=server,
                        nodes=tuple(sorted(ready)),
                        components=tuple(sorted(c for c, p in self._pids().items() if pid_alive(p))))
                last = (f"{len(ready)}/{self.nodes} nodes ready, default service account "
                        f"{'present' if sa else 'missing'}")
            except EnvironmentProblem as exc:
                last = str(exc)
            time.sleep(0.1)
        raise ClusterError(f"kwok cluster {self.name!r} not ready after {self.ready_timeout:.0f}s: {last}")

    def _pids(self) -> dict[str, int]:
        out: dict[str, int] = {}
        piddir = self.cluster_dir / "pids"
        if piddir.is_dir():
            for f in piddir.glob("*.pid"):
                try:
                    out[f.stem] = int(f.read_text().strip())
                except ValueError:
                    continue
        return out

    def down(self, progress: Progress = _quiet) -> None:
        pids = self._pids()
        if self.cluster_dir.exists():
            progress(f"[cluster] deleting kwok cluster {self.name!r}")
            try:
                self._kwokctl("delete", "cluster", "--kubeconfig", str(self.kubeconfig()),
                              timeout=60, config=False)
            except ClusterError as exc:
                progress(f"[cluster] kwokctl delete failed ({exc}); stopping processes directly")
        # Whatever kwokctl left behind (e.g. after a crash) is stopped here: no leftovers.
        for comp, pid in pids.items():
            if pid_alive(pid):
                progress(f"[cluster] stopping leftover {comp} (pid {pid})")
                _terminate(pid)
        if self.cluster_dir.exists():
            import shutil

            shutil.rmtree(self.cluster_dir, ignore_errors=True)
        self.kubeconfig().unlink(missing_ok=True)

    def status(self) -> ClusterStatus:
        base: dict[str, Any] = dict(name=self.name, provider=self.kind.value, context=self.context(),
                    kubeconfig=str(self.kubeconfig()))
        pids = self._pids()
        alive = tuple(sorted(c for c, p in pids.items() if pid_alive(p)))
        if not self.kubeconfig().is_file() or not alive:
            return ClusterStatus(running=False, components=alive,
                                 detail="not created" if not pids else "stopped", **base)
        from pfdrill.cluster.client import KubeClient

        try:
            client = KubeClient(self.kubeconfig(), self.context())
            nodes = tuple(n["metadata"]["name"] for n in client.list_objects("v1", "Node", None))
            server = _server_of(self.kubeconfig(), self.context())
        except EnvironmentProblem as exc:
            return ClusterStatus(running=False, components=alive, detail=str(exc), **base)
        except InvalidInput as exc:
            return ClusterStatus(running=False, components=alive, detail=str(exc), **base)
        expected = {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"}
        missing = expected - set(alive)
        return ClusterStatus(running=not missing, server=server, nodes=nodes, components=alive,
                             detail=f"missing components: {', '.join(sorted(missing))}" if missing else "",
                             **base)


def _server_of(kubeconfig: Path, context: str) -> str:
    return kubeconfig_file.load(kubeconfig).server_of(context)


def _terminate(pid: int, grace: float = 5.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
