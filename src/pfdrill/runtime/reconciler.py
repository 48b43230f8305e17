"""The runtime's reconcile loop, and starting/stopping it as a detached daemon.

One watch on pods (all namespaces) feeds a queue; a loop every half second
starts pods that became Running, stops pods that went away, re-projects
volumes whose ConfigMap/Secret changed, probes readiness, keeps the Service
proxies' endpoints current, and writes the state, service and Prometheus
target files (atomically) for the rest of pfdrill to read.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sys
import threading
from pathlib import Path
from typing import Any

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import EnvironmentProblem, PfdrillError
from pfdrill.model.cluster import PodInfo
from pfdrill.model.fabric import RuntimeFiles
from pfdrill.proc.daemon import Daemon
from pfdrill.proc.ports import free_port
from pfdrill.runtime import podspec
from pfdrill.runtime.pod import PodRunner, decode_secret
from pfdrill.runtime.proxy import ProxyServer

log = logging.getLogger(__name__)
Obj = dict[str, Any]


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


class Runtime:
    """Plays kubelet + kube-proxy for annotated pods of one cluster."""

    def __init__(self, client: ClusterClient, state_dir: Path, bin_dir: Path | None = None,
                 interval: float = 0.5, api_server: str = "") -> None:
        self.client = client
        self.api_server = api_server  # pods' KUBERNETES_SERVICE_HOST/PORT (token projection)
        self.dir = state_dir
        self.bin_dir = bin_dir or Path(sys.executable).parent
        self.interval = interval
        self.pods: dict[str, PodRunner] = {}  # uid -> runner
        self.raw: dict[str, Obj] = {}  # uid -> latest pod object
        self.events: queue.Queue[tuple[str, PodInfo, Obj]] = queue.Queue()
        self.proxy = ProxyServer()
        self._routes: dict[str, str] = {}  # "<pod or cluster IP>:<port>" -> local address
        self.pod_network = f"http://127.0.0.1:{self.proxy.listen_pod_network(self._routes_get)}"
        self.service_ports: dict[tuple[str, str, str], int] = {}  # (ns, svc, port name/num) -> local
        self.stop_event = threading.Event()
        self._stoppers: list[threading.Thread] = []
        self._last_files: dict[str, str] = {}
        self._services: dict[str, list[Obj]] = {}
        self._finished: dict[str, PodRunner] = {}  # done Job pods: files kept until deleted
        self.drain_seconds = 1.0

    # paths ---------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return RuntimeFiles(self.dir).state

    @property
    def targets_file(self) -> Path:
        return RuntimeFiles(self.dir).targets

    @property
    def services_file(self) -> Path:
        return RuntimeFiles(self.dir).services

    @property
    def stand_ins_file(self) -> Path:
        return self.dir / "stand-ins.json"

    def stand_ins(self) -> dict[str, str]:
        try:
            data = json.loads(self.stand_ins_file.read_text())
            return {str(k): str(v) for k, v in data.items()}
        except (OSError, ValueError):
            return {}

    # loop ------------------------------------------------------------------
    def _watch(self, known: dict[str, Obj]) -> None:
        # ``known`` outlives each watch: a pod deleted while the watch was down is
        # reported DELETED by the next list, not kept running for ever.
        while not self.stop_event.is_set():
            try:
                for ev in self.client.watch_pods(self.stop_event, known=known):
                    self.events.put(ev)
            except PfdrillError as exc:
                log.warning("pod watch interrupted: %s; retrying", exc)
                self.stop_event.wait(1.0)

    def run(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        # Know every existing pod before the first reconcile: the state and services files
        # it writes tell callers the runtime has started, so they must not be empty then.
        for raw in self.client.list_objects("v1", "Pod", None):
            if podspec.wants_runtime(raw) and not (raw.get("metadata") or {}).get("deletionTimestamp"):
                self.raw[raw["metadata"].get("uid", "")] = raw
        watcher = threading.Thread(target=self._watch, args=(dict(self.raw),), daemon=True,
                                   name="pod-watch")
        watcher.start()
        log.info("runtime started for context %s (state %s)", self.client.context, self.dir)
        try:
            while not self.stop_event.is_set():
                self._drain_events()
                try:
                    self.reconcile()
                except EnvironmentProblem as exc:
                    log.warning("reconcile: %s", exc)
                self.stop_event.wait(self.interval)
        finally:
            self.shutdown()

    def _drain_events(self) -> None:
        while True:
            try:
                etype, info, raw = self.events.get_nowait()
            except queue.Empty:
                return
            if not podspec.wants_runtime(raw):
                continue
            if etype == "DELETED" or info.deleting:
                self.raw.pop(info.uid, None)
            else:
                self.raw[info.uid] = raw

    def reconcile(self) -> None:
        # Pods gone (deleted, or no longer Running): out of the Service endpoints first,
        # then, after a short drain, their processes are stopped in the background — the
        # order a kubelet and kube-proxy give a terminating pod.
        gone = [u for u in self.pods if u not in self.raw or not _running(self.raw[u])]
        for uid in gone:
            runner = self.pods.pop(uid)
            log.info("stopping pod %s", runner.key)
            # A finished pod (a Job's) keeps its logs until it is deleted, as on a node.
            keep = uid in self.raw and _finished(self.raw[uid])
            if keep:
                self._finished[uid] = runner
            t = threading.Thread(target=self._stop_runner, args=(runner, not keep), daemon=True)
            self._stoppers.append(t)
        for uid in [u for u in self._finished if u not in self.raw]:
            self._finished.pop(uid).remove_files()
        if gone:
            for ns, svcs in self._services.items():
                self._update_endpoints(ns, svcs)
        namespaces = sorted({(r.get("metadata") or {}).get("namespace", "") for r in self.raw.values()})
        configmaps: dict[str, dict[str, dict[str, str]]] = {}
        secrets: dict[str, dict[str, dict[str, bytes]]] = {}
        services: dict[str, list[Obj]] = {}
        for ns in namespaces:
            configmaps[ns] = {o["metadata"]["name"]: dict(o.get("data") or {})
                              for o in self.client.list_objects("v1", "ConfigMap", ns)}
            secrets[ns] = {o["metadata"]["name"]: decode_secret(o)
                           for o in self.client.list_objects("v1", "Secret", ns)}
            services[ns] = self.client.list_objects("v1", "Service", ns)
            self._ensure_service_ports(ns, services[ns])
        self._services = services
        stand_ins = self.stand_ins()
        for t in self._stoppers:
            if t.ident is None:
                t.start()
        self._stoppers = [t for t in self._stoppers if t.is_alive()]
        for runner in self.pods.values():
            if runner.retarget(stand_ins):
                log.info("stand-in %s now reaches %s", runner.key, runner.stand_in_target or "nothing")
        for uid, raw in list(self.raw.items()):
            ns = raw["metadata"]["namespace"]
            if uid not in self.pods and _running(raw):
                runner = PodRunner(raw, self.dir, self.client, self.bin_dir, stand_ins,
                                   self.api_server, self.pod_network)
                log.info("starting pod %s", runner.key)
                runner.start(configmaps[ns], secrets[ns], self._service_env_ports(ns))
                self.pods[uid] = runner
            elif uid in self.pods:
                runner = self.pods[uid]
                runner.pod = raw
                changed = runner.sync_volumes(configmaps[ns], secrets[ns])
                if changed:
                    log.info("pod %s: volumes updated: %s", runner.key, ", ".join(changed))
        for runner in self.pods.values():
            runner.probe()
            runner.report_status()
            runner.report_usage()
        for ns in namespaces:
            self._update_endpoints(ns, services[ns])
        self._routes = pod_network_routes(list(self.pods.values()), services, self.service_ports)
        self._write_files()

    def _routes_get(self, target: str) -> str | None:
        return self._routes.get(target)

    # services -------------------------------------------------------------------
    def _ensure_service_ports(self, ns: str, svcs: list[Obj]) -> None:
        for svc in svcs:
            name = svc["metadata"]["name"]
            if not (svc.get("spec") or {}).get("selector"):
                continue  # no selector: endpoints are managed elsewhere (e.g. 'kubernetes')
            for p in (svc.get("spec") or {}).get("ports") or []:
                key = (ns, name, str(p.get("name") or p.get("port")))
                if key not in self.service_ports:
                    port = free_port()
                    self.proxy.listen(port)
                    self.service_ports[key] = port

    def _service_env_ports(self, ns: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (sns, svc, pname), local in sorted(self.service_ports.items()):
            if sns == ns:
                out.setdefault(svc, {})[pname if not pname.isdigit() else ""] = local
        return out

    def _update_endpoints(self, ns: str, svcs: list[Obj]) -> None:
        for svc in svcs:
            spec = svc.get("spec") or {}
            selector = spec.get("selector") or {}
            for p in spec.get("ports") or []:
                key = (ns, svc["metadata"]["name"], str(p.get("name") or p.get("port")))
                local = self.service_ports.get(key)
                if local is None:
                    continue
                target = p.get("targetPort", p.get("port"))
                eps = []
                for runner in self.pods.values():
                    if runner.namespace != ns or not selector:
                        continue
                    if all(runner.labels.get(k) == v for k, v in selector.items()):
                        ep = runner.endpoint(target)
                        if ep:
                            eps.append(ep)
                self.proxy.set_endpoints(local, sorted(eps))

    # files ------------------------------------------------------------------------
    def _write_files(self) -> None:
        targets: list[dict[str, Any]] = []
        for runner in self.pods.values():
            scrape = podspec.scrape_annotations(runner.pod)
            if scrape is None or runner.stand_in:
                continue
            for ports in runner.ports.values():
                port = podspec.find_port(ports, scrape[0])
                if port is not None:
                    targets.append({
                        "targets": [f"127.0.0.1:{port.local_port}"],
                        "labels": {"job": runner.labels.get("app", runner.name),
                                   "namespace": runner.namespace, "pod": runner.name,
                                   "__metrics_path__": scrape[1]},
                    })
                    break
        targets.sort(key=lambda t: (t["labels"]["job"], t["labels"]["pod"]))
        services = {f"{ns}/{svc}": {"port": pname, "address": f"127.0.0.1:{local}",
                                    "endpoints": list(self.proxy.endpoints(local))}
                    for (ns, svc, pname), local in self.service_ports.items()}
        state = {"context": self.client.context, "pid": os.getpid(),
                 "pods": {r.key: r.state() for r in self.pods.values()}}
        for path, data in ((self.targets_file, targets), (self.services_file, services),
                           (self.state_file, state)):
            text = json.dumps(data, sort_keys=True)
            if self._last_files.get(str(path)) != text:
                _write_json(path, data)
                self._last_files[str(path)] = text

    def _stop_runner(self, runner: PodRunner, remove: bool = True) -> None:
        # In-flight requests finish while no new connection reaches this pod.
        self.stop_event.wait(self.drain_seconds)
        runner.stop()
        if remove:
            runner.remove_files()

    def shutdown(self) -> None:
        self.stop_event.set()
        threads = []
        for runner in self.pods.values():
            t = threading.Thread(target=runner.stop, daemon=True)
            t.start()
            threads.append(t)
        for t in self._stoppers:
            if t.ident is None:
                t.start()
        for t in threads + self._stoppers:
            t.join(timeout=15)
        self.pods.clear()
        self.proxy.shutdown()
        _write_json(self.state_file, {"context": self.client.context, "pid": None, "pods": {}})
        _write_json(self.targets_file, [])
        log.info("runtime stopped")


def pod_network_routes(runners: list[PodRunner], services: dict[str, list[Obj]],
                       service_ports: dict[tuple[str, str, str], int]) -> dict[str, str]:
    """Where the pod network's proxy sends ``<IP>:<port>``: a pod IP's declared container
    ports to the local ports its processes listen on, a Service's cluster IP and port to
    the runtime's proxy for it (as kube-proxy's rules would)."""
    routes: dict[str, str] = {}
    for runner in runners:
        status = runner.pod.get("status") or {}
        ips = {status.get("podIP")} | {i.get("ip") for i in status.get("podIPs") or []}
        for ip in sorted(i for i in ips if i):
            for ports in runner.ports.values():
                for p in ports:
                    if p.local_port:
                        routes[f"{ip}:{p.container_port}"] = f"127.0.0.1:{p.local_port}"
    for ns, svcs in services.items():
        for svc in svcs:
            spec = svc.get("spec") or {}
            ip = spec.get("clusterIP")
            if not ip or ip == "None":
                continue
            for p in spec.get("ports") or []:
                local = service_ports.get((ns, svc["metadata"]["name"], str(p.get("name") or p.get("port"))))
                if local is not None:
                    routes[f"{ip}:{p.get('port')}"] = f"127.0.0.1:{local}"
    return routes


def set_stand_in(rdir: Path, name: str, address: str | None) -> None:
    """Tell the runtime where the real server behind stand-in pods ``name`` listens
    (``127.0.0.1:port``), or that it is gone (None). The runtime picks it up live."""
    path = rdir / "stand-ins.json"
    try:
        current = json.loads(path.read_text())
    except (OSError, ValueError):
        current = {}
    if address:
        current[name] = address
    else:
        current.pop(name, None)
    _write_json(path, current)


def _finished(raw: Obj) -> bool:
    return (raw.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _running(raw: Obj) -> bool:
    meta = raw.get("metadata") or {}
    return (raw.get("status") or {}).get("phase") == "Running" and not meta.get("deletionTimestamp")


# --- detached daemon ----------------------------------------------------------------

def runtime_dir(state: Path, cluster: str) -> Path:
    return state / "runtime" / cluster


def _daemon(rdir: Path) -> Daemon:
    return Daemon("runtime", rdir)  # runtime.pid (pid + start time), runtime.log


def pid_of(rdir: Path) -> int | None:
    return _daemon(rdir).pid()


def start_detached(kubeconfig: Path, context: str, rdir: Path, timeout: float = 20.0) -> int:
    """Start ``pfdrill runtime run`` in its own session; wait until it writes its state file."""
    pid = spawn_detached(kubeconfig, context, rdir)
    wait_started(rdir, pid, timeout)
    return pid


def spawn_detached(kubeconfig: Path, context: str, rdir: Path) -> int:
    """Start the runtime process and return at once (it waits for the API by itself)."""
    daemon = _daemon(rdir)
    if daemon.pid() is None:
        rdir.mkdir(parents=True, exist_ok=True)
        RuntimeFiles(rdir).state.unlink(missing_ok=True)
    return daemon.start([sys.executable, "-m", "pfdrill.runtime", "--kubeconfig",
                         str(kubeconfig), "--context", context, "--state-dir", str(rdir)])


def wait_started(rdir: Path, pid: int, timeout: float = 20.0) -> None:
    """Wait until the runtime has done its first reconcile (it writes its state file)."""
    _daemon(rdir).wait_until(lambda: RuntimeFiles(rdir).running(), timeout, "started")


def stop_detached(rdir: Path, timeout: float = 30.0) -> bool:
    """Stop the runtime; it stops its pods' processes itself on SIGTERM."""
    return _daemon(rdir).stop(timeout, group=False)
