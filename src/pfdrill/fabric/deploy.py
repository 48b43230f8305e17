"""Deploying the reference fabric into a cluster, reporting on it, removing it.

Everything goes through :class:`~pfdrill.cluster.client.ClusterClient`. Before
any change: the context must be on the allow-list, and an existing target
namespace must carry the drill opt-in label (a new one is created with it).
The trust bundle comes from the context's CA (created on first deploy and kept
under pfdrill's state dir); the private key never leaves this machine.
Undeploy removes what deploy applied; the namespace goes too only when pfdrill
created it (label ``app.kubernetes.io/managed-by=pfdrill``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pfdrill.cluster import guard, lease
from pfdrill.cluster.client import ClusterClient
from pfdrill.cluster.provider import ProviderKind
from pfdrill.errors import ClusterError, InvalidInput, ObjectNotFound, SafetyRefused
from pfdrill.fabric import certs, manifests, readiness
from pfdrill.fabric.authority import Authority
from pfdrill.model.cluster import DeploymentState, PodInfo
from pfdrill.model.fabric import FABRIC
from pfdrill.settings.config import Config, load_config
from pfdrill.settings.paths import Paths

T = TypeVar("T")

WORKLOADS = readiness.WORKLOADS
MANAGED = ("app.kubernetes.io/managed-by", "pfdrill")
# The apply and the wait until ready. A killed deploy's lease names a process that is gone:
# the next drill, or `pfdrill restore`, releases it (claim.clear_killed).
DEPLOY_LEASE_S = 900


@dataclasses.dataclass(frozen=True)
class FabricStatus:
    context: str
    namespace: str
    deployments: tuple[DeploymentState, ...]
    pods: tuple[PodInfo, ...]
    enforcement_mode: str | None
    dfa_sha256: str | None
    trust_bundle_keys: tuple[str, ...]

    @property
    def ready(self) -> bool:
        names = {d.name for d in self.deployments}
        return set(WORKLOADS) <= names and all(d.settled for d in self.deployments if d.name in WORKLOADS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "context": self.context, "namespace": self.namespace, "ready": self.ready,
            "deployments": [d.to_dict() for d in self.deployments],
            "pods": [p.to_dict() for p in self.pods],
            "enforcement_mode": self.enforcement_mode, "dfa_sha256": self.dfa_sha256,
            "trust_bundle_keys": list(self.trust_bundle_keys),
        }


def _namespace_labels(client: ClusterClient, namespace: str) -> dict[str, str] | None:
    try:
        return client.namespace_labels(namespace)
    except ObjectNotFound:
        return None


def _check_target(client: ClusterClient, namespace: str, config: Config, *, may_create: bool) -> None:
    guard.check_context(config, client.context)
    labels = _namespace_labels(client, namespace)
    if labels is None:
        if may_create:
            return
        raise SafetyRefused(f"namespace {namespace!r} does not exist in context {client.context!r}")
    guard.check_namespace(client, namespace, config)


def render_for(client_context: str, *, target: ProviderKind = ProviderKind.KWOK,
               config: Config | None = None, paths: Paths | None = None,
               manifest_dir: Path | None = None) -> list[manifests.Obj]:
    """The objects ``deploy`` would apply to ``client_context``: the overlay for ``target``
    (or ``manifest_dir``) and the trust bundle of the context's CA (created if needed)."""
    cfg = config or load_config()
    bundle = Authority.for_context(client_context, paths).bundle()
    return manifests.render(manifest_dir or manifests.overlay(target), bundle,
                            namespace=cfg.namespace, optin_label=cfg.optin_label)


def deploy(
    client: ClusterClient,
    *,
    target: ProviderKind = ProviderKind.KWOK,
    config: Config | None = None,
    paths: Paths | None = None,
    manifest_dir: Path | None = None,
    timeout_s: float = 180.0,
    poll_s: float = 1.0,
    progress: Callable[[str], None] = lambda _m: None,
    pod_http: readiness.PodHttp | None = None,
) -> FabricStatus:
    """Apply the fabric and wait until it is ready (:mod:`.readiness`), holding the drill Lease.

    The apply happens under the Lease, never beside a drill: two runs brought up
    at the same instant on a cluster without a fabric both find none to verify
    and both deploy; a look at the Lease before applying (what this did) let the
    slower one re-apply replicas and ``policy-config`` over the faster one's
    fault. A namespace that does not exist yet holds no drill: it is created
    first, so the Lease has somewhere to live. :class:`~pfdrill.errors.LeaseHeld`
    (exit 3, naming the holder) when a drill holds it, before any change.
    """
    cfg = config or load_config()
    ns = cfg.namespace
    _check_target(client, ns, cfg, may_create=True)
    _wait_not_terminating(client, ns, timeout_s, poll_s, progress)
    objects = render_for(client.context, target=target, config=cfg, paths=paths,
                         manifest_dir=manifest_dir)
    if _namespace_labels(client, ns) is None:
        client.apply([o for o in objects if o.get("kind") == "Namespace"])
    holder = str(lease.RunHolder.mine(f"fabric-deploy-{time.time_ns()}"))
    lease.take(client, ns, holder, DEPLOY_LEASE_S)
    try:
        progress(f"applying {len(objects)} objects to {client.context}/{ns}")
        client.apply(objects)
        wait_settled(client, ns, timeout_s=timeout_s, poll_s=poll_s, progress=progress,
                     pod_http=pod_http)
    finally:
        lease.release(client, ns, holder)
    return status(client, ns)


def _poll(look: Callable[[], T], done: Callable[[T], bool], *, timeout_s: float, poll_s: float,
          clock: Callable[[], float], sleep: Callable[[float], None]) -> tuple[T, bool]:
    """Look until ``done`` holds or ``timeout_s`` passes: the last look, and whether it held."""
    deadline = clock() + timeout_s
    while True:
        got = look()
        if done(got):
            return got, True
        if clock() >= deadline:
            return got, False
        sleep(poll_s)


def _wait_not_terminating(client: ClusterClient, namespace: str, timeout_s: float, poll_s: float,
                          progress: Callable[[str], None],
                          clock: Callable[[], float] = time.monotonic,
                          sleep: Callable[[float], None] = time.sleep) -> None:
    """A namespace being deleted (a previous undeploy) refuses new objects: wait until it is gone."""
    told: list[bool] = []

    def terminating() -> bool:
        ns = client.get_object("v1", "Namespace", None, namespace)
        going = ns is not None and bool((ns.get("metadata") or {}).get("deletionTimestamp"))
        if going and not told:
            progress(f"namespace {namespace} is being deleted; waiting until it is gone")
            told.append(True)
        return going

    _, gone = _poll(terminating, lambda going: not going, timeout_s=timeout_s, poll_s=poll_s,
                    clock=clock, sleep=sleep)
    if not gone:
        raise ClusterError(f"namespace {namespace!r} still terminating after {timeout_s:.0f}s")


def wait_settled(client: ClusterClient, namespace: str, *, timeout_s: float, poll_s: float = 1.0,
                 progress: Callable[[str], None] = lambda _m: None,
                 pod_http: readiness.PodHttp | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait until the fabric is ready as :func:`readiness.check` means it; ClusterError naming
    what is not, after ``timeout_s``."""
    got = readiness.wait(client, namespace, timeout_s=timeout_s, poll_s=poll_s,
                         require_replicas=False, pod_http=pod_http, clock=clock, sleep=sleep)
    if not got.ok:
        raise ClusterError(f"fabric not ready after {timeout_s:.0f}s in {namespace}: "
                           f"{got.describe()}")
    progress("sidecar-watcher and policy-adapter are ready")


def present(client: ClusterClient, namespace: str) -> bool:
    """Whether any fabric workload exists in ``namespace`` (ours or a team's)."""
    for name in WORKLOADS:
        try:
            client.get_deployment(namespace, name)
            return True
        except ObjectNotFound:
            continue
    return False


def _images(obj: dict[str, Any]) -> list[str]:
    spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [str(c.get("image", "")) for c in spec.get("containers") or []]


def drift(client: ClusterClient, objects: list[manifests.Obj]) -> list[str]:
    """How the running fabric differs from ``objects`` (ConfigMap values, replicas, images).

    Reported, never corrected: the difference may be a drill's fault or mitigation."""
    out: list[str] = []
    for obj in objects:
        kind, meta = obj.get("kind"), obj.get("metadata") or {}
        ns, name = meta.get("namespace", ""), meta.get("name", "")
        live = client.get_object(obj["apiVersion"], kind, ns, name) if kind in (
            "ConfigMap", "Deployment") else None
        if kind in ("ConfigMap", "Deployment") and live is None:
            out.append(f"{kind} {name} is missing")
            continue
        if kind == "ConfigMap" and live is not None:
            want, have = obj.get("data") or {}, live.get("data") or {}
            for key in sorted(set(want) | set(have)):
                if want.get(key) != have.get(key):
                    out.append(f"ConfigMap {name} {key}: {have.get(key)!r} "
                               f"(manifest {want.get(key)!r})")
        elif kind == "Deployment" and live is not None:
            want_n = (obj.get("spec") or {}).get("replicas")
            have_n = (live.get("spec") or {}).get("replicas")
            if want_n is not None and want_n != have_n:
                out.append(f"Deployment {name} replicas {have_n} (manifest {want_n})")
            if _images(obj) != _images(live):
                out.append(f"Deployment {name} images {_images(live)} (manifest {_images(obj)})")
    return out


def status(client: ClusterClient, namespace: str = manifests.NAMESPACE) -> FabricStatus:
    deployments = []
    for name in WORKLOADS:
        try:
            deployments.append(client.get_deployment(namespace, name))
        except ObjectNotFound:
            continue
    pods = [p for p in client.list_pods(namespace) if p.labels.get("app") in WORKLOADS]
    mode: str | None = None
    sha: str | None = None
    keys: tuple[str, ...] = ()
    try:
        mode = client.get_configmap(namespace, FABRIC.policy_config).get("enforcement_mode", "enforce")
    except ObjectNotFound:
        pass
    try:
        line = client.get_configmap(namespace, FABRIC.dfa_artifact).get("dfa.json.sha256", "")
        sha = line.split()[0] if line.split() else None
    except ObjectNotFound:
        pass
    try:
        raw = client.get_secret(namespace, FABRIC.certs_secret).get(certs.BUNDLE_KEY)
        if raw is not None:
            keys = certs.TrustBundle.parse(raw).key_ids
    except (ObjectNotFound, InvalidInput):
        pass  # a missing or corrupt bundle shows as no keys; the watcher's metrics say why
    return FabricStatus(client.context, namespace, tuple(deployments), tuple(pods), mode, sha, keys)


NAMESPACE_GONE_S = 180.0


def undeploy(client: ClusterClient, *, target: ProviderKind = ProviderKind.KWOK,
             config: Config | None = None, manifest_dir: Path | None = None,
             timeout_s: float = NAMESPACE_GONE_S) -> list[str]:
    """Delete the fabric's objects; returns ``Kind/name`` of what was asked to go.

    A namespace pfdrill created goes too, and this returns only once it is gone: while it
    terminates, applying anything to it (the next ``fabric deploy``, ``kubectl apply -k``)
    is refused by the API server.
    """
    cfg = config or load_config()
    labels = _namespace_labels(client, cfg.namespace)
    guard.check_context(cfg, client.context)
    if labels is None:
        return []
    guard.check_namespace(client, cfg.namespace, cfg)
    objects = manifests.render(manifest_dir or manifests.overlay(target), None,
                               namespace=cfg.namespace, optin_label=cfg.optin_label)
    objects.append({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": FABRIC.certs_secret, "namespace": cfg.namespace}})
    if labels.get(MANAGED[0]) != MANAGED[1]:
        objects = [o for o in objects if o["kind"] != "Namespace"]  # not ours to remove
    objects.sort(key=lambda o: manifests.KIND_ORDER.index(o["kind"])
                 if o["kind"] in manifests.KIND_ORDER else len(manifests.KIND_ORDER))
    client.delete_objects(objects)
    if any(o["kind"] == "Namespace" for o in objects):
        deadline = time.monotonic() + timeout_s
        while _namespace_labels(client, cfg.namespace) is not None:
            if time.monotonic() >= deadline:
                raise ClusterError(f"namespace {cfg.namespace!r} is still terminating after "
                                   f"{timeout_s:.0f} s (kubectl get namespace {cfg.namespace} "
                                   "-o yaml shows what holds it)")
            time.sleep(0.5)
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]
