"""An in-memory :class:`~pfdrill.cluster.client.ClusterClient` for unit tests of logic.

It keeps objects as plain dicts and behaves like an API server with an
instant controller: scaling a Deployment makes its pods (Running, Ready) appear
or disappear at once. It records every mutating call in :attr:`FakeCluster.calls`
so tests can assert that *nothing* changed.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pfdrill.cluster.client import (
    Obj,
    deployment_state,
    event_info,
    pod_info,
    relist_events,
    track_pod_event,
)
from pfdrill.errors import ObjectNotFound
from pfdrill.model.cluster import DeploymentState, EventInfo, PodInfo

_Key = tuple[str, str, str, str]  # (apiVersion, kind, namespace, name)


class FakeCluster:
    """A dict-backed cluster. Not thread-safe beyond a single coarse lock."""

    def __init__(self, context: str = "fake") -> None:
        self._context = context
        self._objects: dict[_Key, Obj] = {}
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.leases: dict[tuple[str, str], tuple[str, float]] = {}
        self._tokens = itertools.count(1)
        # (namespace, pod, path) -> status the pod proxy answers; unset: 200 (a ready pod)
        self.pod_answers: dict[tuple[str, str, str], int] = {}
        self.pod_bodies: dict[tuple[str, str, str], str] = {}

    # seeding helpers (tests) ----------------------------------------------
    def add_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        self._put({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": name, "labels": dict(labels or {})}})

    def add_configmap(self, namespace: str, name: str, data: Mapping[str, str]) -> None:
        self._put({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": name, "namespace": namespace}, "data": dict(data)})

    def add_secret(self, namespace: str, name: str, data: Mapping[str, bytes]) -> None:
        self._put({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": name, "namespace": namespace},
                   "data": {k: bytes(v) for k, v in data.items()}})

    def add_deployment(self, namespace: str, name: str, replicas: int,
                       labels: Mapping[str, str] | None = None) -> None:
        labels = dict(labels or {"app": name})
        self._put({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": name, "namespace": namespace, "generation": 1,
                                "labels": labels},
                   "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                            "template": {"metadata": {"labels": labels}}}})
        self._reconcile(namespace, name)

    @property
    def context(self) -> str:
        return self._context

    # internals ------------------------------------------------------------
    @staticmethod
    def _key(obj: Obj) -> _Key:
        meta = obj["metadata"]
        return (obj["apiVersion"], obj["kind"], meta.get("namespace") or "", meta["name"])

    def _put(self, obj: Obj) -> None:
        with self._lock:
            self._objects[self._key(obj)] = obj

    def _get(self, api_version: str, kind: str, namespace: str | None, name: str) -> Obj:
        try:
            return self._objects[(api_version, kind, namespace or "", name)]
        except KeyError:
            raise ObjectNotFound(f"{kind} {namespace}/{name}: not found") from None

    def _record(self, op: str, *args: Any) -> None:
        self.calls.append((op, args))

    @property
    def mutations(self) -> list[tuple[str, tuple[Any, ...]]]:
        return list(self.calls)

    def _reconcile(self, namespace: str, name: str) -> None:
        dep = self._get("apps/v1", "Deployment", namespace, name)
        labels = dep["spec"]["selector"]["matchLabels"]
        want = int(dep["spec"]["replicas"])
        pods = [o for k, o in self._objects.items()
                if k[1] == "Pod" and k[2] == namespace
                and all(o["metadata"]["labels"].get(a) == b for a, b in labels.items())]
        for extra in pods[want:]:
            del self._objects[self._key(extra)]
        for _ in range(want - len(pods)):
            n = f"{name}-{uuid.uuid4().hex[:5]}"
            self._put({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": n, "namespace": namespace, "uid": str(uuid.uuid4()),
                                    "labels": dict(dep["spec"]["template"]["metadata"]["labels"]),
                                    "annotations": {},
                                    "ownerReferences": [{"kind": "ReplicaSet", "name": f"{name}-rs"}]},
                       "spec": {"nodeName": "kwok-node-0"},
                       "status": {"phase": "Running",
                                  "conditions": [{"type": "Ready", "status": "True"}],
                                  "containerStatuses": [{"restartCount": 0}]}})
        dep["status"] = {"replicas": want, "readyReplicas": want, "availableReplicas": want,
                         "updatedReplicas": want,
                         "observedGeneration": dep["metadata"]["generation"]}
        self._event(namespace, "Deployment", name, "ScalingReplicaSet",
                    f"Scaled replica set {name} to {want}")

    def _event(self, namespace: str, kind: str, name: str, reason: str, message: str) -> None:
        n = next(self._seq)
        self._put({"apiVersion": "v1", "kind": "Event",
                   "metadata": {"name": f"ev-{n}", "namespace": namespace},
                   "involvedObject": {"kind": kind, "name": name}, "reason": reason,
                   "message": message, "type": "Normal", "count": 1,
                   "lastTimestamp": dt.datetime.now(dt.UTC).isoformat() + f"#{n:06d}"})

    # protocol -------------------------------------------------------------
    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return dict(self._get("v1", "Namespace", None, namespace)["metadata"].get("labels") or {})

    def get_configmap(self, namespace: str, name: str) -> dict[str, str]:
        return dict(self._get("v1", "ConfigMap", namespace, name).get("data") or {})

    def patch_configmap(self, namespace: str, name: str, data: Mapping[str, str | None]) -> None:
        self._record("patch_configmap", namespace, name, dict(data))
        cm = self._get("v1", "ConfigMap", namespace, name)
        cur = cm.setdefault("data", {})
        for k, v in data.items():
            if v is None:
                cur.pop(k, None)
            else:
                cur[k] = v

    def replace_configmap(self, namespace: str, name: str, data: Mapping[str, str]) -> None:
        self._record("replace_configmap", namespace, name, dict(data))
        self._get("v1", "ConfigMap", namespace, name)["data"] = dict(data)

    def get_secret(self, namespace: str, name: str) -> dict[str, bytes]:
        return dict(self._get("v1", "Secret", namespace, name).get("data") or {})

    def replace_secret(self, namespace: str, name: str, data: Mapping[str, bytes]) -> None:
        self._record("replace_secret", namespace, name, dict(data))
        self._get("v1", "Secret", namespace, name)["data"] = dict(data)

    def get_deployment(self, namespace: str, name: str) -> DeploymentState:
        return deployment_state(self._get("apps/v1", "Deployment", namespace, name))

    def scale_deployment(self, namespace: str, name: str, replicas: int) -> None:
        self._record("scale_deployment", namespace, name, replicas)
        dep = self._get("apps/v1", "Deployment", namespace, name)
        dep["spec"]["replicas"] = replicas
        dep["metadata"]["generation"] += 1
        self._reconcile(namespace, name)

    def patch_deployment(self, namespace: str, name: str, patch: Obj) -> None:
        self._record("patch_deployment", namespace, name, copy.deepcopy(patch))
        dep = self._get("apps/v1", "Deployment", namespace, name)
        _merge(dep, patch)
        dep["metadata"]["generation"] += 1
        self._reconcile(namespace, name)

    def replace_pod_template(self, namespace: str, name: str, template: Obj) -> None:
        self._record("replace_pod_template", namespace, name)
        dep = self._get("apps/v1", "Deployment", namespace, name)
        dep["spec"]["template"] = copy.deepcopy(template)
        dep["metadata"]["generation"] += 1
        self._reconcile(namespace, name)

    def rollout_restart(self, namespace: str, name: str) -> None:
        self.patch_deployment(namespace, name, {"spec": {"template": {"metadata": {
            "annotations": {"kubectl.kubernetes.io/restartedAt": dt.datetime.now(dt.UTC).isoformat()}}}}})

    def list_pods(self, namespace: str | None, selector: str = "") -> list[PodInfo]:
        want = _parse_selector(selector)
        out = []
        for k, o in list(self._objects.items()):
            if k[1] != "Pod" or (namespace and k[2] != namespace):
                continue
            labels = o["metadata"].get("labels") or {}
            if all(labels.get(a) == b for a, b in want.items()):
                out.append(pod_info(o))
        return out

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None:
        self._record("delete_pod", namespace, name)
        pod = self._get("v1", "Pod", namespace, name)
        del self._objects[self._key(pod)]
        owner = (pod["metadata"].get("ownerReferences") or [{}])[0].get("name", "")
        if owner.endswith("-rs"):
            self._reconcile(namespace, owner[:-3])

    def list_events(self, namespace: str) -> list[EventInfo]:
        evs = [event_info(o) for k, o in self._objects.items() if k[1] == "Event" and k[2] == namespace]
        return sorted(evs, key=lambda e: e.last_timestamp)

    def apply(self, objects: Sequence[Obj], field_manager: str = "pfdrill") -> None:
        self._record("apply", [self._key(o) for o in objects])
        for o in objects:
            o = copy.deepcopy(o)
            o.setdefault("metadata", {}).setdefault("generation", 1)
            self._put(o)
            if o["kind"] == "Deployment":
                o["spec"].setdefault("replicas", 1)
                o["spec"].setdefault("selector", {"matchLabels": o["metadata"].get("labels", {})})
                self._reconcile(o["metadata"].get("namespace", ""), o["metadata"]["name"])

    def delete_objects(self, objects: Sequence[Obj]) -> None:
        for o in objects:
            m = o["metadata"]
            try:
                self.delete_object(o["apiVersion"], o["kind"], m.get("namespace"), m["name"])
            except ObjectNotFound:
                pass

    def pod_proxy_get(self, namespace: str, pod: str, port: str, path: str) -> tuple[int, str]:
        self._get("v1", "Pod", namespace, pod)
        status = self.pod_answers.get((namespace, pod, path), 200)
        return status, self.pod_bodies.get((namespace, pod, path), "")

    def _endpoints(self, namespace: str, name: str) -> Obj | None:
        """The endpoints controller, instantly: a Service's Ready pods as its addresses."""
        svc = self._objects.get(("v1", "Service", namespace, name))
        if svc is None:
            return None
        want = (svc.get("spec") or {}).get("selector") or {}
        ready: list[Obj] = []
        not_ready: list[Obj] = []
        for k, o in self._objects.items():
            labels = o["metadata"].get("labels") or {}
            if k[1] != "Pod" or k[2] != namespace or not want or not all(
                    labels.get(a) == b for a, b in want.items()):
                continue
            addr = {"ip": "10.0.0.1", "targetRef": {"kind": "Pod", "name": o["metadata"]["name"]}}
            (ready if pod_info(o).ready else not_ready).append(addr)
        return {"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": name, "namespace": namespace},
                "subsets": [{"addresses": ready, "notReadyAddresses": not_ready}]}

    def get_object(self, api_version: str, kind: str, namespace: str | None, name: str) -> Obj | None:
        if (api_version, kind) == ("v1", "Endpoints") and namespace:
            return self._endpoints(namespace, name)
        try:
            return copy.deepcopy(self._get(api_version, kind, namespace, name))
        except ObjectNotFound:
            return None

    def list_objects(self, api_version: str, kind: str, namespace: str | None, selector: str = "") -> list[Obj]:
        want = _parse_selector(selector)
        return [copy.deepcopy(o) for k, o in self._objects.items()
                if k[0] == api_version and k[1] == kind and (not namespace or k[2] == namespace)
                and all((o["metadata"].get("labels") or {}).get(a) == b for a, b in want.items())]

    def delete_object(self, api_version: str, kind: str, namespace: str | None, name: str) -> None:
        self._record("delete_object", api_version, kind, namespace, name)
        obj = self._get(api_version, kind, namespace, name)
        del self._objects[self._key(obj)]

    def patch_status(self, api_version: str, kind: str, namespace: str, name: str, patch: Obj) -> None:
        self._record("patch_status", api_version, kind, namespace, name)
        _merge(self._get(api_version, kind, namespace, name), patch)

    def watch_pods(self, stop: threading.Event, namespace: str | None = None,
                   selector: str = "", known: dict[str, Obj] | None = None,
                   ) -> Iterator[tuple[str, PodInfo, Obj]]:
        """One list, as the real client's first (or next) list: no changes follow."""
        listed = [copy.deepcopy(self._get("v1", "Pod", p.namespace, p.name))
                  for p in self.list_pods(namespace, selector)]
        seen: dict[str, Obj] = {} if known is None else known
        for etype, raw in relist_events(seen, listed):
            yield from track_pod_event(seen, etype, raw)

    def acquire_lease(self, namespace: str, name: str, holder: str, seconds: int) -> bool:
        import time

        now = time.monotonic()
        cur = self.leases.get((namespace, name))
        if cur and cur[0] != holder and cur[1] > now:
            return False
        self.leases[(namespace, name)] = (holder, now + seconds)
        return True

    def lease_holder(self, namespace: str, name: str) -> str | None:
        import time

        cur = self.leases.get((namespace, name))
        return cur[0] if cur and cur[1] > time.monotonic() else None

    def release_lease(self, namespace: str, name: str, holder: str) -> None:
        cur = self.leases.get((namespace, name))
        if cur and cur[0] == holder:
            del self.leases[(namespace, name)]

    def request_token(self, namespace: str, service_account: str, *, seconds: int,
                      pod: tuple[str, str] | None = None) -> str:
        """A distinct token per request, naming what it was issued for (no signature)."""
        self._record("request_token", namespace, service_account, seconds, pod)
        bound = f":{pod[0]}" if pod else ""
        return f"fake-token-{next(self._tokens)}:{namespace}:{service_account}{bound}"


def _merge(target: Obj, patch: Obj) -> None:
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            _merge(target[k], v)
        elif v is None:
            target.pop(k, None)
        else:
            target[k] = copy.deepcopy(v)


def _parse_selector(selector: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in selector.split(","))):
        k, _, v = part.partition("=")
        out[k.strip()] = v.strip().lstrip("=")
    return out
