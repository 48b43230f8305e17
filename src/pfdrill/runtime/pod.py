"""One pod run as local processes: volumes, env, ports, containers, kwok CRDs."""

from __future__ import annotations

import base64
import logging
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import PfdrillError
from pfdrill.model.fabric import POD_NETWORK_ENV
from pfdrill.proc.ports import free_port
from pfdrill.runtime import images, podspec, serviceaccount, usage, volumes
from pfdrill.runtime.process import ContainerProcess

log = logging.getLogger(__name__)
Obj = dict[str, Any]
KWOK_API = "kwok.x-k8s.io/v1alpha1"


class PodRunner:
    """Runs one pod's containers; owns its directory under the runtime's state dir."""

    def __init__(self, pod: Obj, root: Path, client: ClusterClient, bin_dir: Path,
                 stand_ins: Mapping[str, str], api_server: str = "", pod_network: str = "") -> None:
        meta = pod["metadata"]
        self.pod = pod
        self.namespace: str = meta["namespace"]
        self.name: str = meta["name"]
        self.uid: str = meta.get("uid", "")
        self.labels: dict[str, str] = dict(meta.get("labels") or {})
        self.root = root
        self.dir = root / "pods" / f"{self.namespace}_{self.name}_{self.uid[:8]}"
        self.client = client
        self.bin_dir = bin_dir
        self.pod_network = pod_network  # the runtime's pod-network proxy (images.py)
        ann = meta.get("annotations") or {}
        self.stand_in: str | None = ann.get(podspec.STAND_IN_ANNOTATION)
        self.stand_in_target = stand_ins.get(self.stand_in or "", "")
        self.containers: dict[str, ContainerProcess] = {}
        self.ports: dict[str, list[podspec.PortAssignment]] = {}
        self.volume_hashes: dict[str, str] = {}
        self.ready: dict[str, bool] = {}
        self.problems: list[str] = []
        self._reported: tuple[dict[str, int], bool, dict[str, int] | None] | None = None
        self._next_probe: dict[str, float] = {}
        self._probe_failures: dict[str, int] = {}
        self._samplers: dict[str, usage.UsageSampler] = {}
        self._next_usage = 0.0
        self.token = (serviceaccount.TokenProjection(client, self.dir / "serviceaccount", pod,
                                                     api_server)
                      if api_server and serviceaccount.wanted(pod) and not self.stand_in else None)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def _spec(self) -> Obj:
        spec: Obj = self.pod.get("spec") or {}
        return spec

    # volumes -----------------------------------------------------------------
    def _volume_data(self, vol: Obj, configmaps: Mapping[str, Mapping[str, str]],
                     secrets: Mapping[str, Mapping[str, bytes]]) -> dict[str, bytes] | None:
        if cm := vol.get("configMap"):
            data = configmaps.get(cm.get("name", ""))
            if data is None:
                return {} if cm.get("optional") else None
            return {k: v.encode() for k, v in data.items()}
        if sec := vol.get("secret"):
            sdata = secrets.get(sec.get("secretName", ""))
            if sdata is None:
                return {} if sec.get("optional") else None
            return dict(sdata)
        return None

    def _host_path(self, vol: Obj) -> Path | None:
        """The node directory behind a hostPath volume, or a claim bound to a hostPath/local
        PersistentVolume: data there outlives the pod, as on a node."""
        if host := vol.get("hostPath"):
            return Path(host["path"])
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName", "")
        pvc = self.client.get_object("v1", "PersistentVolumeClaim", self.namespace, claim)
        pv_name = ((pvc or {}).get("spec") or {}).get("volumeName")
        if not pv_name:
            self.problems.append(f"volume {vol['name']}: claim {claim!r} is not bound")
            return None
        pv = self.client.get_object("v1", "PersistentVolume", None, pv_name) or {}
        spec = pv.get("spec") or {}
        source = spec.get("hostPath") or spec.get("local")
        if not source:
            self.problems.append(f"volume {vol['name']}: PersistentVolume {pv_name} is neither "
                                 f"hostPath nor local (the process runtime has no other storage)")
            return None
        return Path(source["path"])

    def _link_host(self, vol: Obj, target: Path) -> None:
        if target.is_symlink():
            return
        host = self._host_path(vol)
        if host is None:
            return
        host.mkdir(parents=True, exist_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(host, target_is_directory=True)

    def sync_volumes(self, configmaps: Mapping[str, Mapping[str, str]],
                     secrets: Mapping[str, Mapping[str, bytes]]) -> list[str]:
        """Project (or re-project on change) every volume; returns names that changed."""
        changed = []
        if self.token is not None:
            try:
                if self.token.sync(configmaps):
                    changed.append("serviceaccount")
            except PfdrillError as exc:
                self.problems.append(f"serviceaccount token: {exc}")
        for vol in self._spec().get("volumes") or []:
            name = vol["name"]
            target = self.dir / "volumes" / name
            if "emptyDir" in vol:
                volumes.empty_dir(target)
                continue
            if "hostPath" in vol or "persistentVolumeClaim" in vol:
                self._link_host(vol, target)
                continue
            data = self._volume_data(vol, configmaps, secrets)
            if data is None:
                problem = f"volume {name}: source not found"
                if ("configMap" in vol or "secret" in vol) and problem not in self.problems:
                    self.problems.append(problem)  # synced every loop: said once
                continue
            digest = volumes.content_hash(data)
            if self.volume_hashes.get(name) == digest:
                continue
            items = (vol.get("configMap") or vol.get("secret") or {}).get("items")
            volumes.project(target, data, items)
            self.volume_hashes[name] = digest
            changed.append(name)
        return changed

    def _mounts(self, container: Obj) -> dict[str, Path]:
        mounts: dict[str, Path] = {}
        for m in container.get("volumeMounts") or []:
            path = self.dir / "volumes" / m["name"]
            if m.get("subPath"):
                path = path / m["subPath"]
            mounts[m["mountPath"]] = path
        if self.token is not None:
            mounts.setdefault(serviceaccount.MOUNT_PATH, self.token.directory)
        return mounts

    # start / stop ------------------------------------------------------------
    def start(self, configmaps: Mapping[str, Mapping[str, str]],
              secrets: Mapping[str, Mapping[str, bytes]],
              services: Mapping[str, Mapping[str, int]]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "logs").mkdir(exist_ok=True)
        self.sync_volumes(configmaps, secrets)
        execs, forwards, logs = [], [], []
        for c in self._spec().get("containers") or []:
            cname = c["name"]
            assigned = [podspec.PortAssignment(p.get("name", ""), int(p["containerPort"]),
                                               free_port())
                        for p in c.get("ports") or []]
            if self.stand_in:
                assigned = self._stand_in_ports(assigned)
            self.ports[cname] = assigned
            log_file = self.dir / "logs" / f"{cname}.log"
            log_file.touch()
            logs.append({"containers": [cname], "logsFile": str(log_file), "follow": True})
            forwards += [{"ports": [p.container_port],
                          "target": {"port": p.local_port, "address": "127.0.0.1"}}
                         for p in assigned if p.local_port]
            if self.stand_in:
                self.ready[cname] = bool(self.stand_in_target)
                continue  # a stand-in runs nothing: its forwards reach the real server
            env = self._env(c, assigned, configmaps, secrets, services)
            image = images.lookup(c.get("image") or "") if not c.get("command") else None
            if image is not None and self.pod_network:
                env["HTTP_PROXY"] = self.pod_network
            execs.append({"containers": [cname], "local": {
                "workDir": str(self.dir),
                "envs": [{"name": k, "value": v} for k, v in sorted(env.items())]}})
            argv = [podspec.expand(a, env) for a in (c.get("command") or []) + (c.get("args") or [])]
            mounts = self._mounts(c)
            argv = [podspec.translate_paths(a, mounts) for a in argv]
            if image is not None:
                try:
                    argv = self._image_argv(image, argv, assigned)
                except PfdrillError as exc:
                    self.problems.append(f"container {cname}: image {c.get('image')}: {exc}")
                    continue
            if not argv:
                self.problems.append(f"container {cname}: no command, and image {c.get('image')!r} "
                                     "is not one the process runtime runs (runtime/images.py)")
                continue
            resolved = shutil.which(argv[0], path=env.get("PATH"))
            if resolved and not os.path.isabs(argv[0]):
                argv[0] = resolved
            grace = float(self._spec().get("terminationGracePeriodSeconds", 10))
            proc = ContainerProcess(f"{self.key}/{cname}", argv, env, self.dir, log_file,
                                    grace_seconds=min(grace, 10.0),
                                    restart_policy=self._spec().get("restartPolicy", "Always"))
            self.containers[cname] = proc
            self.ready[cname] = podspec.readiness_path(c) is None
            proc.start()
        self._apply_crds(logs, execs, forwards)

    def _image_argv(self, image: images.Image, args: list[str],
                    ports: list[podspec.PortAssignment]) -> list[str]:
        """The image's entrypoint with the manifest's args, listening on the first port's
        local address; with the pod's ServiceAccount at the standard path."""
        argv = [image.binary(), *args]
        if ports and ports[0].local_port:
            argv = [argv[0], *images.with_listen(argv[1:], image.listen_flag,
                                                 f"127.0.0.1:{ports[0].local_port}")]
        if self.token is not None:
            argv = images.serviceaccount_wrapper(argv, str(self.token.directory),
                                                 serviceaccount.MOUNT_PATH)
        return argv

    def _stand_in_ports(self, ports: list[podspec.PortAssignment]) -> list[podspec.PortAssignment]:
        _host, _, port = self.stand_in_target.rpartition(":")
        return [podspec.PortAssignment(p.name, p.container_port, int(port or 0)) for p in ports]

    def retarget(self, stand_ins: Mapping[str, str]) -> bool:
        """Point a stand-in pod at its server's current address; True when it changed.

        The observability stack may come up (or move) after the pod started.
        """
        target = stand_ins.get(self.stand_in or "", "")
        if not self.stand_in or target == self.stand_in_target:
            return False
        self.stand_in_target = target
        forwards = []
        for cname, ports in self.ports.items():
            self.ports[cname] = self._stand_in_ports(ports)
            self.ready[cname] = bool(target)
            forwards += [{"ports": [p.container_port],
                          "target": {"port": p.local_port, "address": "127.0.0.1"}}
                         for p in self.ports[cname] if p.local_port]
        self._apply_crds([], [], forwards)
        return True

    def _env(self, c: Obj, ports: list[podspec.PortAssignment],
             configmaps: Mapping[str, Mapping[str, str]], secrets: Mapping[str, Mapping[str, bytes]],
             services: Mapping[str, Mapping[str, int]]) -> dict[str, str]:
        base = {k: os.environ[k] for k in ("HOME", "LANG", "LC_ALL", "TZ", "USER") if k in os.environ}
        base["PATH"] = f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
        # pfdrill's console scripts in a pod import the same pfdrill as the runtime itself
        base["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
        base["HOSTNAME"] = self.name
        base["PYTHONUNBUFFERED"] = "1"
        # The pod network's stand-in: a process-runtime pod's IP routes nowhere (the API
        # server's pod proxy answers 503), so pods ask a pod's port through the runtime's
        # state, as pfdrill on the host does (fabric.readiness.pod_http).
        base[POD_NETWORK_ENV] = str(self.root)
        base.update(podspec.service_env(services))
        base.update(podspec.port_env(ports))
        if self.token is not None:
            base.update(self.token.env())
        declared, problems = podspec.resolve_env(c, self.pod, configmaps, secrets)
        self.problems += problems
        mounts = self._mounts(c)
        base.update({k: podspec.translate_paths(v, mounts) for k, v in declared.items()})
        return base

    def _apply_crds(self, logs: list[Obj], execs: list[Obj], forwards: list[Obj]) -> None:
        owner = [{"apiVersion": "v1", "kind": "Pod", "name": self.name, "uid": self.uid}]
        meta = {"name": self.name, "namespace": self.namespace, "ownerReferences": owner,
                "labels": {"app.kubernetes.io/managed-by": "pfdrill-runtime"}}
        objs = []
        if logs:
            objs.append({"apiVersion": KWOK_API, "kind": "Logs", "metadata": meta, "spec": {"logs": logs}})
        if execs:
            objs.append({"apiVersion": KWOK_API, "kind": "Exec", "metadata": meta, "spec": {"execs": execs}})
        if forwards:
            objs.append({"apiVersion": KWOK_API, "kind": "PortForward", "metadata": meta,
                         "spec": {"forwards": forwards}})
        try:
            self.client.apply(objs, field_manager="pfdrill-runtime")
        except PfdrillError as exc:
            # The pod may be gone already; its CRDs go with it through the owner reference.
            log.warning("pod %s: kwok CRDs not applied: %s", self.key, exc)

    def stop(self) -> None:
        for proc in self.containers.values():
            proc.stop()

    def remove_files(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    # health ----------------------------------------------------------------------
    def probe(self) -> None:
        """Poll each container's httpGet readiness probe (stand-ins: their target)."""
        for c in self._spec().get("containers") or []:
            cname = c["name"]
            proc = self.containers.get(cname)
            if self.stand_in:
                continue
            if proc is None or not proc.running:
                self.ready[cname] = False
                continue
            rp = podspec.readiness_path(c)
            if rp is None:
                self.ready[cname] = True
                continue
            # Not yet ready: probe every loop. Ready: every periodSeconds, at most 2 s apart.
            now = time.monotonic()
            if self.ready.get(cname) and now < self._next_probe.get(cname, 0.0):
                continue
            spec = c.get("readinessProbe") or {}
            period = float(spec.get("periodSeconds", 10))
            self._next_probe[cname] = now + min(period, 2.0)
            port = podspec.find_port(self.ports.get(cname, []), rp[0])
            if port is None:
                self.ready[cname] = False
                continue
            timeout = float(spec.get("timeoutSeconds", 1))
            try:
                url = f"http://127.0.0.1:{port.local_port}{rp[1]}"
                with urllib.request.urlopen(url, timeout=timeout) as r:
                    passed = 200 <= r.status < 400
            except (urllib.error.URLError, OSError, ValueError):
                passed = False
            # Like the kubelet: one success makes a container ready, but only
            # failureThreshold failures in a row (default 3) make a ready one unready, so
            # a probe that times out once on a busy machine does not flap the endpoints.
            if passed:
                self._probe_failures[cname] = 0
                self.ready[cname] = True
            else:
                failures = self._probe_failures.get(cname, 0) + 1
                self._probe_failures[cname] = failures
                if failures >= int(spec.get("failureThreshold", 3)) or not self.ready.get(cname):
                    self.ready[cname] = False

    @property
    def all_ready(self) -> bool:
        return bool(self.ready) and all(self.ready.values())

    def exit_codes(self) -> dict[str, int] | None:
        """Each container's exit status once every one has finished for good, else None."""
        procs = self.containers
        if not procs or not all(p.finished for p in procs.values()):
            return None
        return {n: p.last_exit if p.last_exit is not None else 1 for n, p in procs.items()}

    def restarts(self) -> dict[str, int]:
        return {n: p.restarts for n, p in self.containers.items()}

    def report_status(self) -> None:
        """Mirror process readiness and restart counts into the pod status.

        kwok marks a pod Ready as soon as it is scheduled; the process behind it
        may take a second more. Reporting the real readiness makes Deployment
        rollouts and ``kubectl get pods`` reflect the processes.
        """
        if self.stand_in:
            return
        current = (self.restarts(), self.all_ready, self.exit_codes())
        if current == self._reported:
            return
        restarts, ready, exits = current
        status = self.pod.get("status") or {}
        flag = "True" if ready else "False"
        conditions = []
        for cond in status.get("conditions") or []:
            cond = dict(cond)
            if cond.get("type") in ("Ready", "ContainersReady") and cond.get("status") != flag:
                cond["status"] = flag
                cond["lastTransitionTime"] = _now()
            conditions.append(cond)
        statuses = []
        for cs in status.get("containerStatuses") or []:
            cs = dict(cs)
            name = cs.get("name", "")
            cs["restartCount"] = restarts.get(name, 0)
            cs["ready"] = self.ready.get(name, False)
            if exits is not None and name in exits:
                cs["ready"], cs["started"] = False, False
                cs["state"] = {"terminated": {
                    "exitCode": exits[name], "reason": "Completed" if exits[name] == 0 else "Error",
                    "startedAt": (cs.get("state") or {}).get("running", {}).get("startedAt", _now()),
                    "finishedAt": _now()}}
            statuses.append(cs)
        patch: Obj = {"conditions": conditions, "containerStatuses": statuses}
        if exits is not None:  # a Job's pod: done, as its restartPolicy says
            patch["phase"] = "Succeeded" if all(c == 0 for c in exits.values()) else "Failed"
        try:
            self.client.patch_status("v1", "Pod", self.namespace, self.name, {"status": patch})
            self._reported = current
        except PfdrillError as exc:
            log.warning("pod %s: status not reported: %s", self.key, exc)

    def report_usage(self, every: float = 5.0) -> None:
        """Publish the containers' real CPU and memory as a kwok ResourceUsage (``kubectl top``)."""
        now = time.monotonic()
        if self.stand_in or not self.containers or now < self._next_usage:
            return
        self._next_usage = now + every
        usages = []
        for name, proc in self.containers.items():
            cores, mem = self._samplers.setdefault(name, usage.UsageSampler()).sample(proc.pid)
            usages.append({"containers": [name], "usage": {
                "cpu": {"value": usage.quantity_cpu(cores)},
                "memory": {"value": usage.quantity_memory(mem)}}})
        owner = [{"apiVersion": "v1", "kind": "Pod", "name": self.name, "uid": self.uid}]
        obj = {"apiVersion": KWOK_API, "kind": "ResourceUsage",
               "metadata": {"name": self.name, "namespace": self.namespace, "ownerReferences": owner},
               "spec": {"usages": usages}}
        try:
            self.client.apply([obj], field_manager="pfdrill-runtime")
        except PfdrillError as exc:
            log.debug("pod %s: usage not reported: %s", self.key, exc)

    def endpoint(self, target_port: str | int) -> str | None:
        """Local address serving ``target_port`` (name or number) of this pod, if ready."""
        ref = str(target_port)
        for cname, ports in self.ports.items():
            for p in ports:
                if ref in (p.name, str(p.container_port)) and p.local_port and self.ready.get(cname):
                    return f"127.0.0.1:{p.local_port}"
        return None

    def state(self) -> Obj:
        return {
            "namespace": self.namespace, "name": self.name, "uid": self.uid,
            "dir": str(self.dir), "stand_in": self.stand_in,
            "containers": {n: {"pid": p.pid, "restarts": p.restarts, "argv": p.argv,
                               "ready": self.ready.get(n, False), "last_exit": p.last_exit}
                           for n, p in self.containers.items()},
            "ports": {n: [{"name": p.name, "containerPort": p.container_port, "local": p.local_port}
                          for p in ps] for n, ps in self.ports.items()},
            "problems": self.problems,
        }


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decode_secret(raw: Obj) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in (raw.get("data") or {}).items()}
