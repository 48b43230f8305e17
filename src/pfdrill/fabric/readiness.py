"""The one meaning of "the fabric is ready": every check that waits for or judges it uses this.

A chaostoolkit steady-state probe, a scenario's wait after its rollback, the
drill's preflight and recovery checks and the fabric's bring-up all asked
"ready?" in their own words, and did not agree: a wait counted ``readyReplicas``
(which kwok sets the moment a pod is scheduled, before the process behind it
answers), so it passed, and the steady-state probe a second later saw the
process runtime correct the pod to not-ready. Now each of them calls
:func:`check`, which holds only when, for every workload:

1. the rollout is complete as ``kubectl rollout status`` judges it — the
   controller saw the latest spec, every desired replica runs the latest
   template and is *available* (ready for ``minReadySeconds``), and no pod of
   an older revision is left (:attr:`DeploymentState.settled`);
2. the live pods are exactly the desired ones, each Ready, none terminating;
3. the Service's endpoints list exactly those pods as ready addresses and
   none as not-ready (what a client of the Service reaches);
4. each pod's own readiness endpoint (its ``readinessProbe``, the watchers'
   ``/readyz``) answers 200 right now, asked through a :class:`PodHttp`.

Reading only; the result says what is not ready, so a timeout names it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import httpx

from pfdrill.cluster.client import ClusterClient, Obj
from pfdrill.errors import ObjectNotFound, PfdrillError
from pfdrill.model.cluster import DeploymentState, PodInfo
from pfdrill.model.fabric import FABRIC, POD_NETWORK_ENV, RuntimeFiles

WORKLOADS = (FABRIC.watcher, FABRIC.adapter)


class PodHttp(Protocol):
    """GET a path on one pod's container port, ``None`` if unreachable."""

    def get(self, pod: PodInfo, port: str, path: str) -> int | None:
        """The HTTP status."""
        ...

    def fetch(self, pod: PodInfo, port: str, path: str) -> tuple[int, str] | None:
        """The HTTP status and body."""
        ...


@dataclasses.dataclass(frozen=True)
class WorkloadReadiness:
    name: str
    replicas: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        return f"{self.name}: " + ("ready" if self.ok else "; ".join(self.problems))


@dataclasses.dataclass(frozen=True)
class Readiness:
    workloads: tuple[WorkloadReadiness, ...]

    @property
    def ok(self) -> bool:
        return all(w.ok for w in self.workloads)

    def of(self, name: str) -> WorkloadReadiness | None:
        return next((w for w in self.workloads if w.name == name), None)

    def describe(self) -> str:
        return "; ".join(w.describe() for w in self.workloads)


def rollout_problems(dep: DeploymentState) -> list[str]:
    """Why ``kubectl rollout status`` would still wait on ``dep`` (empty: complete)."""
    out = []
    if dep.observed_generation < dep.generation:
        out.append("the controller has not seen the latest spec")
    if dep.updated < dep.replicas:
        out.append(f"{dep.updated}/{dep.replicas} replicas updated")
    if dep.current is not None and dep.current > dep.updated:
        out.append(f"{dep.current - dep.updated} pod(s) of an old revision left")
    if dep.available < dep.replicas or dep.ready < dep.replicas:
        out.append(f"{dep.available}/{dep.replicas} available ({dep.ready} ready)")
    return out


def _template(client: ClusterClient, namespace: str, name: str) -> Obj:
    dep = client.get_object("apps/v1", "Deployment", namespace, name) or {}
    return ((dep.get("spec") or {}).get("template") or {})


def _selector(template: Obj, name: str) -> str:
    labels = (template.get("metadata") or {}).get("labels") or {"app": name}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _readiness_probes(template: Obj) -> list[tuple[str, str]]:
    """(port, path) of each container's httpGet readinessProbe."""
    out = []
    for c in (template.get("spec") or {}).get("containers") or []:
        get = (c.get("readinessProbe") or {}).get("httpGet")
        if get:
            out.append((str(get.get("port", "")), str(get.get("path", "/"))))
    return out


def _endpoint_problems(client: ClusterClient, namespace: str, service: str,
                       pods: Sequence[PodInfo]) -> list[str]:
    if client.get_object("v1", "Service", namespace, service) is None:
        return []  # no Service of that name: nobody reaches the pods through one
    ep = client.get_object("v1", "Endpoints", namespace, service) or {}
    ready: set[str] = set()
    not_ready: set[str] = set()
    for subset in ep.get("subsets") or []:
        for key, into in (("addresses", ready), ("notReadyAddresses", not_ready),
                          ("not_ready_addresses", not_ready)):
            for addr in subset.get(key) or []:
                ref = addr.get("targetRef") or addr.get("target_ref") or {}
                into.add(str(ref.get("name") or addr.get("ip") or ""))
    want = {p.name for p in pods}
    out = []
    if want - ready:
        out.append(f"Service {service} endpoints lack {', '.join(sorted(want - ready))}")
    if ready - want:
        out.append(f"Service {service} endpoints still list {', '.join(sorted(ready - want))}")
    if not_ready:
        out.append(f"Service {service} has not-ready endpoints {', '.join(sorted(not_ready))}")
    return out


def workload(client: ClusterClient, namespace: str, name: str, *,
             require_replicas: bool = True, pod_http: PodHttp | None = None) -> WorkloadReadiness:
    """One Deployment's readiness (see the module docstring for the four conditions)."""
    try:
        dep = client.get_deployment(namespace, name)
    except ObjectNotFound:
        return WorkloadReadiness(name, 0, ("Deployment missing",))
    problems = rollout_problems(dep)
    if require_replicas and dep.replicas < 1:
        problems.append("scaled to 0 replicas")
    template = _template(client, namespace, name)
    pods = client.list_pods(namespace, _selector(template, name))
    live = [p for p in pods if not p.deleting]
    going = [p.name for p in pods if p.deleting]
    if going:
        problems.append(f"pod(s) terminating: {', '.join(sorted(going))}")
    if len(live) != dep.replicas:
        problems.append(f"{len(live)} pod(s) for {dep.replicas} desired")
    unready = sorted(p.name for p in live if not p.ready)
    if unready:
        problems.append(f"pod(s) not Ready: {', '.join(unready)}")
    if not problems:
        problems += _endpoint_problems(client, namespace, name, live)
    if not problems and pod_http is not None:
        for pod in live:
            for port, path in _readiness_probes(template):
                status = pod_http.get(pod, port, path)
                if status != 200:
                    problems.append(f"{pod.name} {path} answered "
                                    f"{'nothing' if status is None else status}")
    return WorkloadReadiness(name, dep.replicas, tuple(problems))


def check(client: ClusterClient, namespace: str, *, workloads: Sequence[str] = WORKLOADS,
          require_replicas: bool = True, pod_http: PodHttp | None = None) -> Readiness:
    """Every workload's readiness; ``.ok`` is the one answer to "is the fabric ready?"."""
    return Readiness(tuple(workload(client, namespace, n, require_replicas=require_replicas,
                                    pod_http=pod_http) for n in workloads))


def wait(client: ClusterClient, namespace: str, *, timeout_s: float, poll_s: float = 1.0,
         workloads: Sequence[str] = WORKLOADS, require_replicas: bool = True,
         pod_http: PodHttp | None = None,
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> Readiness:
    """Poll :func:`check` until it holds or ``timeout_s`` passes; the last answer."""
    deadline = clock() + timeout_s
    while True:
        got = check(client, namespace, workloads=workloads, require_replicas=require_replicas,
                    pod_http=pod_http)
        if got.ok or clock() >= deadline:
            return got
        sleep(poll_s)


# --- reaching a pod's port -------------------------------------------------------------------

class RuntimePods:
    """The kwok process runtime's shortcut: each pod's container ports are local ports
    (``state.json`` of the runtime), so a pod is asked directly."""

    def __init__(self, runtime_dir: Path, timeout_s: float = 2.0) -> None:
        self._state = RuntimeFiles(Path(runtime_dir)).state
        self._timeout = timeout_s

    def _local_port(self, pod: PodInfo, port: str) -> int | None:
        try:
            state = json.loads(self._state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        entry = (state.get("pods") or {}).get(f"{pod.namespace}/{pod.name}") or {}
        for ports in (entry.get("ports") or {}).values():
            for p in ports:
                if port in (str(p.get("name")), str(p.get("containerPort"))) and p.get("local"):
                    return int(p["local"])
        return None

    def fetch(self, pod: PodInfo, port: str, path: str) -> tuple[int, str] | None:
        local = self._local_port(pod, port)
        if local is None:
            return None
        try:
            with httpx.Client(timeout=self._timeout) as http:
                r = http.get(f"http://127.0.0.1:{local}{path}")
                return r.status_code, r.text
        except httpx.HTTPError:
            return None

    def get(self, pod: PodInfo, port: str, path: str) -> int | None:
        got = self.fetch(pod, port, path)
        return None if got is None else got[0]


class ApiServerPods:
    """Any cluster: the API server's pod proxy (``/api/v1/.../pods/<pod>:<port>/proxy/<path>``),
    the way an operator reaches a pod with nothing but a kubeconfig."""

    def __init__(self, client: ClusterClient) -> None:
        self._client = client

    def fetch(self, pod: PodInfo, port: str, path: str) -> tuple[int, str] | None:
        try:
            got: tuple[int, str] = self._client.pod_proxy_get(pod.namespace, pod.name, port, path)
        except PfdrillError:
            return None
        return got

    def get(self, pod: PodInfo, port: str, path: str) -> int | None:
        got = self.fetch(pod, port, path)
        return None if got is None else got[0]


def pod_http(client: ClusterClient, runtime_dir: str | Path | None) -> PodHttp:
    """The runtime's shortcut where there is one, else the API server's pod proxy.

    Inside a pod of the kwok process runtime (pfdrill's scheduled CronJob on the drill
    cluster) the runtime names itself in ``$PFDRILL_POD_NETWORK``: pod IPs there route
    nowhere, so the API server's proxy cannot reach a pod, and the runtime's state can.
    """
    for where in (runtime_dir, os.environ.get(POD_NETWORK_ENV)):
        if where and RuntimeFiles(Path(where)).running():
            return RuntimePods(Path(where))
    return ApiServerPods(client)
