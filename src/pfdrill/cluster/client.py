"""The cluster client protocol, and its implementation on the Kubernetes client.

Every other layer talks to a cluster through :class:`ClusterClient`; unit tests
use :class:`pfdrill.cluster.fake.FakeCluster`, integration tests the real
:class:`KubeClient` against the kwok cluster.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from pfdrill.cluster import incluster
from pfdrill.cluster import kubeconfig as kubeconfig_file
from pfdrill.errors import ClusterError, InvalidInput, ObjectNotFound
from pfdrill.model.cluster import DeploymentState, EventInfo, PodInfo

T = TypeVar("T")
Obj = dict[str, Any]
WATCH_TIMEOUT_S = 30  # the API server ends each pod watch after this; the client lists again


@runtime_checkable
class ClusterClient(Protocol):
    """What pfdrill needs from a Kubernetes cluster."""

    @property
    def context(self) -> str: ...

    # namespaces -------------------------------------------------------------
    def namespace_labels(self, namespace: str) -> dict[str, str]: ...

    # config maps and secrets ------------------------------------------------
    def get_configmap(self, namespace: str, name: str) -> dict[str, str]: ...
    def patch_configmap(self, namespace: str, name: str, data: Mapping[str, str | None]) -> None: ...
    def replace_configmap(self, namespace: str, name: str, data: Mapping[str, str]) -> None: ...
    def get_secret(self, namespace: str, name: str) -> dict[str, bytes]: ...
    def replace_secret(self, namespace: str, name: str, data: Mapping[str, bytes]) -> None: ...

    # workloads --------------------------------------------------------------
    def get_deployment(self, namespace: str, name: str) -> DeploymentState: ...
    def scale_deployment(self, namespace: str, name: str, replicas: int) -> None: ...
    def patch_deployment(self, namespace: str, name: str, patch: Obj) -> None: ...
    def rollout_restart(self, namespace: str, name: str) -> None: ...
    def replace_pod_template(self, namespace: str, name: str, template: Obj) -> None: ...
    def list_pods(self, namespace: str | None, selector: str = "") -> list[PodInfo]: ...
    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None: ...
    def list_events(self, namespace: str) -> list[EventInfo]: ...
    def pod_proxy_get(self, namespace: str, pod: str, port: str, path: str) -> tuple[int, str]:
        """HTTP status and body of ``GET path`` on the pod's port, through the API server's
        pod proxy."""
        ...

    # generic objects (manifests, CRDs) -------------------------------------
    def apply(self, objects: Sequence[Obj], field_manager: str = "pfdrill") -> None: ...
    def delete_objects(self, objects: Sequence[Obj]) -> None: ...
    def get_object(self, api_version: str, kind: str, namespace: str | None, name: str) -> Obj | None: ...
    def list_objects(
        self, api_version: str, kind: str, namespace: str | None, selector: str = ""
    ) -> list[Obj]: ...
    def delete_object(self, api_version: str, kind: str, namespace: str | None, name: str) -> None: ...
    def patch_status(
        self, api_version: str, kind: str, namespace: str, name: str, patch: Obj
    ) -> None: ...

    # watching ---------------------------------------------------------------
    def watch_pods(
        self, stop: threading.Event, namespace: str | None = None, selector: str = "",
        known: dict[str, Obj] | None = None,
    ) -> Iterator[tuple[str, PodInfo, Obj]]:
        """Yield ``(ADDED|MODIFIED|DELETED, pod, raw)`` until ``stop`` is set.

        Starts with an ADDED event for every existing pod (a list), then follows
        changes; reconnects transparently when the watch times out. Every list
        (the first and each relist) also yields DELETED for a pod in ``known``
        that it no longer holds (:func:`relist_events`). ``known`` (uid → pod) is
        kept up to date as events are yielded, so a caller that calls again after
        an error passes the same dict and loses no deletion in between.
        """
        ...

    # leases (one drill at a time) ------------------------------------------
    def acquire_lease(self, namespace: str, name: str, holder: str, seconds: int) -> bool: ...
    def release_lease(self, namespace: str, name: str, holder: str) -> None: ...
    def lease_holder(self, namespace: str, name: str) -> str | None:
        """Who holds the lease now (``None``: nobody, or the holder's time ran out)."""
        ...

    # service account tokens (what a kubelet projects into a pod) -------------
    def request_token(self, namespace: str, service_account: str, *, seconds: int,
                      pod: tuple[str, str] | None = None) -> str:
        """A TokenRequest for ``service_account``, bound to ``pod`` (name, uid) when given."""
        ...


def relist_events(known: Mapping[str, Obj], listed: Sequence[Obj]) -> list[tuple[str, Obj]]:
    """What a fresh list of pods tells a watcher that knew ``known`` (uid → pod).

    ADDED for every pod listed, then DELETED for every known pod the list no longer
    holds. A watch that ends (its timeout, a 410, the API server away) leaves a gap
    before the next list, and a pod deleted in that gap has no DELETED event in any
    watch: only its absence from the list says it is gone. (A full test run, 2026-12-04: a
    policy-adapter deleted with its namespace kept running, and serving the adapter
    Service, for 23 minutes, and adapter-failure drills found no failure to see.)
    """
    uids = {(raw.get("metadata") or {}).get("uid", "") for raw in listed}
    return ([("ADDED", raw) for raw in listed]
            + [("DELETED", raw) for uid, raw in known.items() if uid not in uids])


def track_pod_event(known: dict[str, Obj], etype: str, raw: Obj) -> Iterator[tuple[str, PodInfo, Obj]]:
    """Record one pod event in ``known`` (before the caller sees it), then yield it."""
    uid = (raw.get("metadata") or {}).get("uid", "")
    if etype == "DELETED":
        known.pop(uid, None)
    else:
        known[uid] = raw
    yield etype, pod_info(raw), raw


def pod_info(raw: Obj) -> PodInfo:
    """Build a :class:`PodInfo` from a pod as a plain dict (API JSON shape)."""
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    conditions = status.get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    restarts = sum(int(cs.get("restartCount") or 0) for cs in status.get("containerStatuses") or [])
    owners = meta.get("ownerReferences") or []
    owner = f"{owners[0]['kind']}/{owners[0]['name']}" if owners else ""
    return PodInfo(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        uid=meta.get("uid", ""),
        phase=status.get("phase", "") or "",
        ready=ready,
        restarts=restarts,
        node=spec.get("nodeName", "") or "",
        labels=dict(meta.get("labels") or {}),
        annotations=dict(meta.get("annotations") or {}),
        deleting=bool(meta.get("deletionTimestamp")),
        owner=owner,
        ip=status.get("podIP", "") or "",
    )


def deployment_state(raw: Obj) -> DeploymentState:
    meta = raw.get("metadata") or {}
    spec = raw.get("spec") or {}
    status = raw.get("status") or {}
    return DeploymentState(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        replicas=int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1),
        ready=int(status.get("readyReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        updated=int(status.get("updatedReplicas") or 0),
        observed_generation=int(status.get("observedGeneration") or 0),
        generation=int(meta.get("generation") or 0),
        current=int(status.get("replicas") or 0),
    )


def event_info(raw: Obj) -> EventInfo:
    involved = raw.get("involvedObject") or {}
    meta = raw.get("metadata") or {}
    when = raw.get("lastTimestamp") or raw.get("eventTime") or meta.get("creationTimestamp") or ""
    return EventInfo(
        namespace=meta.get("namespace", ""),
        reason=raw.get("reason", "") or "",
        message=raw.get("message", "") or "",
        kind=involved.get("kind", "") or "",
        name=involved.get("name", "") or "",
        type=raw.get("type", "") or "",
        last_timestamp=str(when),
        count=int(raw.get("count") or 1),
    )


def _incluster_api(sa: incluster.ServiceAccountFiles) -> Any:
    """An API client on the pod's ServiceAccount, re-reading the token as it rotates.

    The client's own ``load_incluster_config`` reads only the fixed kubelet path;
    its loader takes the files' paths, so the override is honoured here.
    """
    from kubernetes import client
    from kubernetes.config.incluster_config import InClusterConfigLoader

    cfg = client.Configuration()
    InClusterConfigLoader(token_filename=str(sa.token), cert_filename=str(sa.ca),
                          environ={incluster.HOST_ENV: sa.host,
                                   incluster.PORT_ENV: sa.port}).load_and_set(cfg)
    return client.ApiClient(cfg)


class KubeClient:
    """:class:`ClusterClient` on the official Kubernetes Python client.

    The context ``in-cluster`` (a kubeconfig written by :mod:`.incluster`) uses the
    pod's ServiceAccount files directly when they are there, so a token the
    kubelet rotates is picked up by a long-running drill too.
    """

    def __init__(self, kubeconfig: str | Path, context: str | None = None) -> None:
        from kubernetes import client, config  # imported here: heavy, and only this layer may

        path = Path(kubeconfig)
        # pfdrill's own reading first: a mistake names its line, and the client below only
        # sees a file whose contexts and clusters are known to be there.
        self._context = kubeconfig_file.load(path).context(context).name
        self.kubeconfig = path
        sa = incluster.ServiceAccountFiles.from_env()
        try:
            if self._context == incluster.CONTEXT and sa.available():
                self._api = _incluster_api(sa)
            else:
                self._api = config.new_client_from_config(config_file=str(path),
                                                          context=self._context)
        except Exception as exc:
            raise InvalidInput(f"cannot load context {self._context!r}: {exc}", file=path) from exc
        self._core = client.CoreV1Api(self._api)
        self._apps = client.AppsV1Api(self._api)
        self._coord = client.CoordinationV1Api(self._api)
        self._dyn: Any = None
        self._dyn_lock = threading.Lock()

    @property
    def context(self) -> str:
        return self._context

    @property
    def api_client(self) -> Any:
        return self._api

    @property
    def server(self) -> str:
        """The API server's URL (``https://127.0.0.1:6443``)."""
        return str(self._api.configuration.host)

    # helpers ----------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T]) -> T:
        from kubernetes.client.exceptions import ApiException

        try:
            return fn()
        except ApiException as exc:
            if exc.status == 404:
                raise ObjectNotFound(f"{what}: not found") from exc
            reason = exc.reason or ""
            raise ClusterError(f"{what}: API error {exc.status} {reason}".strip()) from exc
        except OSError as exc:
            raise ClusterError(f"{what}: cannot reach the API server ({exc})") from exc
        except Exception as exc:
            # urllib3 raises MaxRetryError etc. which are not OSErrors.
            if type(exc).__module__.startswith("urllib3"):
                raise ClusterError(f"{what}: cannot reach the API server ({exc})") from exc
            raise

    def _dynamic(self) -> Any:
        with self._dyn_lock:
            if self._dyn is None:
                from kubernetes import dynamic

                self._dyn = self._call("API discovery", lambda: dynamic.DynamicClient(self._api))
            return self._dyn

    def _resource(self, api_version: str, kind: str) -> Any:
        return self._call(
            f"resource {api_version}/{kind}",
            lambda: self._dynamic().resources.get(api_version=api_version, kind=kind),
        )

    def _san(self, obj: Any) -> Obj:
        result: Obj = self._api.sanitize_for_serialization(obj)
        return result

    # namespaces ---------------------------------------------------------------
    def namespace_labels(self, namespace: str) -> dict[str, str]:
        ns = self._call(f"namespace {namespace}", lambda: self._core.read_namespace(namespace))
        return dict((ns.metadata.labels if ns.metadata else None) or {})

    # config maps / secrets -------------------------------------------------
    def get_configmap(self, namespace: str, name: str) -> dict[str, str]:
        cm = self._call(
            f"configmap {namespace}/{name}",
            lambda: self._core.read_namespaced_config_map(name, namespace),
        )
        return dict(cm.data or {})

    def patch_configmap(self, namespace: str, name: str, data: Mapping[str, str | None]) -> None:
        self._call(
            f"patch configmap {namespace}/{name}",
            lambda: self._core.patch_namespaced_config_map(name, namespace, {"data": dict(data)}),
        )

    def replace_configmap(self, namespace: str, name: str, data: Mapping[str, str]) -> None:
        def do() -> None:
            cm = self._core.read_namespaced_config_map(name, namespace)
            cm.data = dict(data)
            self._core.replace_namespaced_config_map(name, namespace, cm)

        self._call(f"replace configmap {namespace}/{name}", do)

    def get_secret(self, namespace: str, name: str) -> dict[str, bytes]:
        import base64

        s = self._call(
            f"secret {namespace}/{name}", lambda: self._core.read_namespaced_secret(name, namespace)
        )
        return {k: base64.b64decode(v) for k, v in (s.data or {}).items()}

    def replace_secret(self, namespace: str, name: str, data: Mapping[str, bytes]) -> None:
        import base64

        def do() -> None:
            s = self._core.read_namespaced_secret(name, namespace)
            s.data = {k: base64.b64encode(v).decode() for k, v in data.items()}
            s.string_data = None
            self._core.replace_namespaced_secret(name, namespace, s)

        self._call(f"replace secret {namespace}/{name}", do)

    # workloads -------------------------------------------------------------
    def get_deployment(self, namespace: str, name: str) -> DeploymentState:
        d = self._call(
            f"deployment {namespace}/{name}",
            lambda: self._apps.read_namespaced_deployment(name, namespace),
        )
        return deployment_state(self._san(d))

    def scale_deployment(self, namespace: str, name: str, replicas: int) -> None:
        self._call(
            f"scale deployment {namespace}/{name}",
            lambda: self._apps.patch_namespaced_deployment_scale(
                name, namespace, {"spec": {"replicas": replicas}}
            ),
        )

    def patch_deployment(self, namespace: str, name: str, patch: Obj) -> None:
        self._call(
            f"patch deployment {namespace}/{name}",
            lambda: self._apps.patch_namespaced_deployment(name, namespace, patch),
        )

    def replace_pod_template(self, namespace: str, name: str, template: Obj) -> None:
        """Put ``template`` back as the Deployment's pod template, whole (a merge patch
        cannot take away what was added).

        The write carries the resourceVersion of the read, so nothing written in between
        is overwritten unseen; the controller's status updates move that version all
        through a rollout, so a conflict is read again and retried (as client-go's
        RetryOnConflict does), a few times."""
        from kubernetes.client.exceptions import ApiException

        def do() -> Any:
            for attempt in range(8):
                body = self._san(self._apps.read_namespaced_deployment(name, namespace))
                body["spec"]["template"] = template
                try:
                    # the client serialises a dict body as it is (a V1Deployment would too)
                    return self._apps.replace_namespaced_deployment(name, namespace,
                                                                    cast(Any, body))
                except ApiException as exc:
                    if exc.status != 409 or attempt == 7:
                        raise
                    time.sleep(0.1 * (attempt + 1))
            return None

        self._call(f"replace the pod template of deployment {namespace}/{name}", do)

    def rollout_restart(self, namespace: str, name: str) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {
            "spec": {
                "template": {
                    "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}
                }
            }
        }
        self.patch_deployment(namespace, name, patch)

    def list_pods(self, namespace: str | None, selector: str = "") -> list[PodInfo]:
        if namespace:
            pods = self._call(
                f"list pods in {namespace}",
                lambda: self._core.list_namespaced_pod(namespace, label_selector=selector),
            )
        else:
            pods = self._call(
                "list pods", lambda: self._core.list_pod_for_all_namespaces(label_selector=selector)
            )
        return [pod_info(self._san(p)) for p in pods.items]

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None:
        self._call(
            f"delete pod {namespace}/{name}",
            lambda: self._core.delete_namespaced_pod(
                name, namespace, grace_period_seconds=grace_seconds
            ),
        )

    def list_events(self, namespace: str) -> list[EventInfo]:
        evs = self._call(
            f"list events in {namespace}", lambda: self._core.list_namespaced_event(namespace)
        )
        out = [event_info(self._san(e)) for e in evs.items]
        out.sort(key=lambda e: e.last_timestamp)
        return out

    def pod_proxy_get(self, namespace: str, pod: str, port: str, path: str) -> tuple[int, str]:
        from kubernetes.client.exceptions import ApiException

        try:
            resp: Any = self._call(f"proxy to pod {namespace}/{pod}:{port}{path}", lambda: (
                self._core.connect_get_namespaced_pod_proxy_with_path(
                    f"{pod}:{port}", namespace, path.lstrip("/"), _preload_content=False,
                    _request_timeout=5)))
        except ClusterError as exc:
            cause = exc.__cause__
            if isinstance(cause, ApiException) and cause.status:
                # the pod (or the proxy) answered, not with 2xx
                return int(cause.status), str(cause.body or "")
            raise
        try:
            return int(resp.status), resp.data.decode("utf-8", "replace")
        finally:
            resp.release_conn()

    # generic objects -----------------------------------------------------------
    def apply(self, objects: Sequence[Obj], field_manager: str = "pfdrill") -> None:
        for obj in objects:
            kind = obj.get("kind", "?")
            meta = obj.get("metadata") or {}
            name = meta.get("name", "?")
            res = self._resource(obj["apiVersion"], kind)
            ns = meta.get("namespace") if res.namespaced else None

            def do(res: Any = res, obj: Obj = obj, name: str = name, ns: str | None = ns) -> Any:
                return res.server_side_apply(body=obj, name=name, namespace=ns,
                                             field_manager=field_manager, force_conflicts=True)

            self._call(f"apply {kind} {name}", do)

    def delete_objects(self, objects: Sequence[Obj]) -> None:
        for obj in reversed(list(objects)):
            meta = obj.get("metadata") or {}
            try:
                self.delete_object(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
            except ObjectNotFound:
                pass

    def get_object(self, api_version: str, kind: str, namespace: str | None, name: str) -> Obj | None:
        res = self._resource(api_version, kind)
        try:
            got = self._call(
                f"get {kind} {name}",
                lambda: res.get(name=name, namespace=namespace if res.namespaced else None),
            )
        except ObjectNotFound:
            return None
        result: Obj = got.to_dict()
        return result

    def list_objects(
        self, api_version: str, kind: str, namespace: str | None, selector: str = ""
    ) -> list[Obj]:
        res = self._resource(api_version, kind)
        got = self._call(
            f"list {kind}",
            lambda: res.get(namespace=namespace if res.namespaced else None, label_selector=selector),
        )
        return [i.to_dict() for i in got.items]

    def delete_object(self, api_version: str, kind: str, namespace: str | None, name: str) -> None:
        res = self._resource(api_version, kind)
        self._call(
            f"delete {kind} {name}",
            lambda: res.delete(name=name, namespace=namespace if res.namespaced else None),
        )

    def patch_status(self, api_version: str, kind: str, namespace: str, name: str, patch: Obj) -> None:
        res = self._resource(api_version, kind)
        sub = res.subresources.get("status") if hasattr(res, "subresources") else None
        target = sub or res
        self._call(
            f"patch status of {kind} {namespace}/{name}",
            lambda: target.patch(
                name=name, namespace=namespace, body=patch,
                content_type="application/merge-patch+json",
            ),
        )

    # watching ---------------------------------------------------------------
    def watch_pods(
        self, stop: threading.Event, namespace: str | None = None, selector: str = "",
        known: dict[str, Obj] | None = None,
    ) -> Iterator[tuple[str, PodInfo, Obj]]:
        from kubernetes import watch
        from kubernetes.client.exceptions import ApiException

        seen: dict[str, Obj] = {} if known is None else known
        while not stop.is_set():
            if namespace:
                lst = self._call(
                    "list pods",
                    lambda: self._core.list_namespaced_pod(namespace, label_selector=selector),
                )
            else:
                lst = self._call(
                    "list pods", lambda: self._core.list_pod_for_all_namespaces(label_selector=selector)
                )
            for etype, raw in relist_events(seen, [self._san(p) for p in lst.items]):
                yield from track_pod_event(seen, etype, raw)
            rv = lst.metadata.resource_version if lst.metadata else None
            w = watch.Watch()
            fn = self._core.list_namespaced_pod if namespace else self._core.list_pod_for_all_namespaces
            args: tuple[Any, ...] = (namespace,) if namespace else ()
            try:
                for ev in w.stream(
                    fn, *args, label_selector=selector, resource_version=rv,
                    timeout_seconds=WATCH_TIMEOUT_S, _request_timeout=WATCH_TIMEOUT_S + 10,
                ):
                    if stop.is_set():
                        w.stop()
                        return
                    if ev["type"] == "ERROR":
                        break
                    yield from track_pod_event(seen, ev["type"], self._san(ev["object"]))
            except ApiException as exc:
                if exc.status != 410:  # 410 Gone: resource version too old, relist
                    raise ClusterError(f"watch pods: API error {exc.status}") from exc
            except Exception as exc:
                if stop.is_set():
                    return
                if type(exc).__module__.startswith(("urllib3", "http")):
                    stop.wait(1.0)  # API server briefly away: relist
                    continue
                raise

    # leases ---------------------------------------------------------------------
    def acquire_lease(self, namespace: str, name: str, holder: str, seconds: int) -> bool:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        now = dt.datetime.now(dt.UTC)
        body = client.V1Lease(
            metadata=client.V1ObjectMeta(name=name, namespace=namespace),
            spec=client.V1LeaseSpec(
                holder_identity=holder, lease_duration_seconds=seconds,
                acquire_time=now, renew_time=now,
            ),
        )
        try:
            self._coord.create_namespaced_lease(namespace, body)
            return True
        except ApiException as exc:
            if exc.status != 409:
                raise ClusterError(f"create lease {namespace}/{name}: API error {exc.status}") from exc
        current = self._call(
            f"lease {namespace}/{name}", lambda: self._coord.read_namespaced_lease(name, namespace)
        )
        spec = current.spec
        if spec is None:
            spec = current.spec = client.V1LeaseSpec()
        renew = spec.renew_time or spec.acquire_time
        expired = renew is None or (now - renew).total_seconds() > (spec.lease_duration_seconds or 0)
        if spec.holder_identity not in (None, "", holder) and not expired:
            return False
        spec.holder_identity = holder
        spec.lease_duration_seconds = seconds
        spec.acquire_time = now
        spec.renew_time = now
        try:
            self._coord.replace_namespaced_lease(name, namespace, current)
        except ApiException as exc:
            if exc.status == 409:  # somebody else won the race
                return False
            raise ClusterError(f"take lease {namespace}/{name}: API error {exc.status}") from exc
        return True

    def lease_holder(self, namespace: str, name: str) -> str | None:
        try:
            current = self._call(
                f"lease {namespace}/{name}", lambda: self._coord.read_namespaced_lease(name, namespace)
            )
        except ObjectNotFound:
            return None
        spec = current.spec
        if spec is None or not spec.holder_identity:
            return None
        renew = spec.renew_time or spec.acquire_time
        now = dt.datetime.now(dt.UTC)
        if renew is None or (now - renew).total_seconds() > (spec.lease_duration_seconds or 0):
            return None
        return str(spec.holder_identity)

    def release_lease(self, namespace: str, name: str, holder: str) -> None:
        try:
            current = self._call(
                f"lease {namespace}/{name}", lambda: self._coord.read_namespaced_lease(name, namespace)
            )
        except ObjectNotFound:
            return
        if current.spec is not None and current.spec.holder_identity == holder:
            self._call(
                f"delete lease {namespace}/{name}",
                lambda: self._coord.delete_namespaced_lease(name, namespace),
            )

    # service account tokens -------------------------------------------------------------
    def request_token(self, namespace: str, service_account: str, *, seconds: int,
                      pod: tuple[str, str] | None = None) -> str:
        from kubernetes import client

        bound = client.V1BoundObjectReference(api_version="v1", kind="Pod", name=pod[0],
                                              uid=pod[1]) if pod else None
        body = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
            audiences=[], expiration_seconds=seconds, bound_object_ref=bound))
        got = self._call(
            f"token for serviceaccount {namespace}/{service_account}",
            lambda: self._core.create_namespaced_service_account_token(
                service_account, namespace, body))
        if got.status is None or not got.status.token:
            raise ClusterError(f"token for serviceaccount {namespace}/{service_account}: "
                               "the API server returned none")
        return str(got.status.token)
