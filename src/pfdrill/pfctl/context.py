"""What every pfctl command works with: the chosen environment, the cluster, the store, pod logs.

:class:`Context` is built once per invocation (:func:`from_config`). The
cluster client and the log reader are interfaces, so the library functions
behind each command run in unit tests on :class:`~pfdrill.cluster.fake.FakeCluster`
and :class:`StaticLogs` — the CLI always builds the real ones.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from pfdrill.cluster.client import ClusterClient
from pfdrill.cluster.portforward import PortForward
from pfdrill.errors import ClusterError, EnvironmentProblem, InvalidInput, ServiceUnavailable
from pfdrill.model.fabric import FABRIC, RuntimeFiles
from pfdrill.pfctl import settings
from pfdrill.pfctl.store import Store
from pfdrill.runbook.observer import FabricObserver, KubectlLogObserver

WATCHER_PORT = 8080  # the sidecar-watcher Service's port (deploy/fabric, the contract)


class LogReader(Protocol):
    def pod_logs(self, namespace: str, selector: str) -> dict[str, str]:
        """Logs of every pod matching ``selector``, by pod name."""
        ...


class KubectlLogs:
    """Pod logs through ``kubectl logs`` (the Kubernetes client layer offers no log API)."""

    def __init__(self, kubectl: str, kubeconfig: str, context: str) -> None:
        self.kubectl = kubectl
        self.env = {**os.environ}
        if kubeconfig:
            self.env["KUBECONFIG"] = kubeconfig
        self.context = context

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        argv = [self.kubectl, *args] + ([f"--context={self.context}"] if self.context else [])
        try:
            return subprocess.run(argv, env=self.env, capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterError(f"kubectl {args[0]}: {exc}") from exc

    def pod_logs(self, namespace: str, selector: str) -> dict[str, str]:
        got = self._run("get", "pods", "-n", namespace, "-l", selector, "-o", "json")
        if got.returncode != 0:
            raise ClusterError(f"kubectl get pods: {got.stderr.decode(errors='replace').strip()}")
        names = [p["metadata"]["name"] for p in json.loads(got.stdout).get("items", [])]
        out: dict[str, str] = {}
        for name in names:
            done = self._run("logs", "-n", namespace, name, "--all-containers", "--tail=-1")
            out[name] = done.stdout.decode("utf-8", "replace") if done.returncode == 0 else (
                f"(logs unavailable: {done.stderr.decode(errors='replace').strip()})\n")
        return out


class StaticLogs:
    """Fixed logs by pod, for unit tests of logic."""

    def __init__(self, logs: Mapping[str, Mapping[str, str]]) -> None:
        self.logs = {sel: dict(pods) for sel, pods in logs.items()}

    def pod_logs(self, namespace: str, selector: str) -> dict[str, str]:
        return dict(self.logs.get(selector, {}))


@dataclasses.dataclass
class Context:
    env: settings.EnvSettings
    state_dir: Path
    client_factory: Callable[[], ClusterClient]
    logs: LogReader
    repo: Path | None = None
    cwd: Path = dataclasses.field(default_factory=Path.cwd)
    # How a reload is watched, by pod selector (kubectl logs unless a test says otherwise).
    observers: Callable[[str], FabricObserver] | None = None
    _forwards: dict[str, PortForward] = dataclasses.field(default_factory=dict, init=False)

    def observer(self, selector: str) -> FabricObserver:
        if self.observers is not None:
            return self.observers(selector)
        env = {**os.environ, **({"KUBECONFIG": self.env.kubeconfig} if self.env.kubeconfig
                                else {})}
        return KubectlLogObserver(kubectl_path(self.env), env, self.namespace, selector)

    @functools.cached_property
    def client(self) -> ClusterClient:
        return self.client_factory()

    @functools.cached_property
    def store(self) -> Store:
        return Store(self.state_dir)

    @property
    def namespace(self) -> str:
        return self.env.namespace

    def path(self, name: str | Path) -> Path:
        p = Path(name).expanduser()
        return p if p.is_absolute() else self.cwd / p

    def watcher_url(self) -> str:
        """Where the sidecar-watcher answers: configured, else the kwok runtime's Service
        proxy (a shortcut), else a port-forward through the API server (any cluster)."""
        if self.env.watcher_url:
            return self.env.watcher_url.rstrip("/")
        if self.env.runtime_dir:
            services = RuntimeFiles(Path(self.env.runtime_dir)).services
            if services.is_file():
                data = json.loads(services.read_text())
                entry = data.get(f"{self.namespace}/{FABRIC.watcher}")
                if entry and entry.get("address"):
                    return f"http://{entry['address']}"
        return self._forwarded(FABRIC.watcher, WATCHER_PORT)

    def _forwarded(self, service: str, port: int) -> str:
        """Through the API server, as an operator would: a managed ``kubectl port-forward``
        to the Service, stopped when pfctl exits."""
        key = f"{service}:{port}"
        if key not in self._forwards:
            if not (self.env.kubeconfig or os.environ.get("KUBECONFIG")):
                raise ServiceUnavailable(
                    f"cannot reach the {service} Service: environment {self.env.name!r} has "
                    "no kubeconfig to port-forward through (or set watcher_url)")
            forward = PortForward(kubectl_path(self.env), self.env.kubeconfig or None,
                                  self.env.context or None, self.namespace, f"svc/{service}",
                                  port)
            forward.start()
            self._forwards[key] = forward
        return self._forwards[key].url

    def close(self) -> None:
        """Stop the port-forwards this context started."""
        for forward in self._forwards.values():
            forward.close()
        self._forwards.clear()

    def incident_or_latest(self, given: str | None) -> str | None:
        return given or os.environ.get("INCIDENT_ID") or self.store.latest_open()


def kubectl_path(env: settings.EnvSettings) -> str:
    found = env.kubectl or shutil.which("kubectl")
    if not found:
        raise EnvironmentProblem("kubectl not found (set 'kubectl' in the pfctl config)")
    return found


def from_config(env_name: str | None, config_path: str | None = None) -> Context:
    cfg = settings.load(config_path)
    env = cfg.env(env_name)

    def client() -> ClusterClient:
        from pfdrill.cluster.client import KubeClient

        if not env.kubeconfig:
            raise InvalidInput(f"environment {env.name!r} has no kubeconfig (set it in "
                               f"$PFCTL_CONFIG or $KUBECONFIG)")
        return KubeClient(env.kubeconfig, env.context or None)

    logs = KubectlLogs(env.kubectl or shutil.which("kubectl") or "kubectl", env.kubeconfig,
                       env.context)
    return Context(env=env, state_dir=cfg.state_dir, client_factory=client, logs=logs,
                   repo=cfg.repo)
