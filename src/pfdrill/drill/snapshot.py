"""The pre-fault snapshot: what restore puts back, kept on disk so a killed run can be undone.

A snapshot holds the fabric objects faults and runbooks touch in the drill
namespace — ConfigMaps (and which of those a runbook's tools may create were
absent), Secrets, Deployment replica counts and pod templates (a runbook's
``kubectl rollout restart`` or resource patch changes the template). It is written
(mode 0600: it holds the trust bundle) before anything is injected and
deleted only after a restore that left no difference, so if pfdrill is
SIGKILLed mid-drill the next run finds it and restores first.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import ObjectNotFound
from pfdrill.fabric import readiness
from pfdrill.model.codec import Record
from pfdrill.model.fabric import FABRIC

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class SnapshotPlan(Record):
    """Which objects to snapshot."""

    namespace: str
    # Every object a fault or a runbook step may change (faults keep their own exact undo
    # log too; the snapshot is the drill's independent safety net).
    configmaps: tuple[str, ...] = FABRIC.configmaps + FABRIC.runbook_configmaps
    secrets: tuple[str, ...] = (FABRIC.certs_secret,)
    deployments: tuple[str, ...] = FABRIC.deployments


@dataclasses.dataclass(frozen=True)
class Snapshot(Record):
    namespace: str
    context: str
    run_id: str
    holder: str  # the lease holder identity of the run that took it
    taken_wall: str
    configmaps: dict[str, dict[str, str]]
    secrets: dict[str, dict[str, str]]  # values base64, as the API carries them
    replicas: dict[str, int]
    extra: dict[str, str] = dataclasses.field(default_factory=dict)  # StateKeeper name -> saved
    # the Deployments' pod templates as read (the API server's defaults included)
    templates: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    absent_configmaps: tuple[str, ...] = ()  # of the plan's: created later, taken away again


class ClusterSnapshotter:
    """Take, compare and restore snapshots through a :class:`ClusterClient`.

    A pod template put back rolls the Deployment out again; :meth:`restore` returns once
    that rollout is ready as :mod:`~pfdrill.fabric.readiness` means it (asking each pod
    through ``pod_http`` where given), or after ``settle_s`` saying what is not: the next
    drill's preflight must not find the restored fabric's pods still starting.
    """

    def __init__(self, cluster: ClusterClient, plan: SnapshotPlan, *,
                 pod_http: readiness.PodHttp | None = None, settle_s: float = 180.0) -> None:
        self._cluster = cluster
        self.plan = plan
        self.pod_http = pod_http
        self.settle_s = settle_s

    def take(self, *, run_id: str, holder: str, taken_wall: str) -> Snapshot:
        ns = self.plan.namespace
        cms: dict[str, dict[str, str]] = {}
        absent: list[str] = []
        for name in self.plan.configmaps:
            try:
                cms[name] = self._cluster.get_configmap(ns, name)
            except ObjectNotFound:
                absent.append(name)  # a fault cannot need it; made later, it goes again
        secrets: dict[str, dict[str, str]] = {}
        for name in self.plan.secrets:
            try:
                raw = self._cluster.get_secret(ns, name)
            except ObjectNotFound:
                continue
            secrets[name] = {k: base64.b64encode(v).decode("ascii") for k, v in raw.items()}
        replicas: dict[str, int] = {}
        templates: dict[str, dict[str, Any]] = {}
        for name in self.plan.deployments:
            try:
                replicas[name] = self._cluster.get_deployment(ns, name).replicas
            except ObjectNotFound:
                continue
            template = self._template(ns, name)
            if template is not None:
                templates[name] = template
        return Snapshot(namespace=ns, context=self._cluster.context, run_id=run_id,
                        holder=holder, taken_wall=taken_wall, configmaps=cms,
                        secrets=secrets, replicas=replicas, templates=templates,
                        absent_configmaps=tuple(absent))

    def _template(self, namespace: str, name: str) -> dict[str, Any] | None:
        dep = self._cluster.get_object("apps/v1", "Deployment", namespace, name)
        if dep is None:
            return None
        return dict((dep.get("spec") or {}).get("template") or {})

    def _created(self, snap: Snapshot) -> list[str]:
        """The plan's ConfigMaps absent at the snapshot that exist now."""
        return [n for n in snap.absent_configmaps if self._get_or_none(
            functools.partial(self._cluster.get_configmap, snap.namespace, n)) is not None]

    def differences(self, snap: Snapshot) -> list[str]:
        """What differs now from ``snap`` (secret values are never named, only their keys)."""
        ns = snap.namespace
        out: list[str] = []
        for name, data in snap.configmaps.items():
            now = self._get_or_none(functools.partial(self._cluster.get_configmap, ns, name))
            if now is None:
                out.append(f"ConfigMap {name} is gone")
                continue
            for key in sorted(set(data) | set(now)):
                if data.get(key) != now.get(key):
                    out.append(f"ConfigMap {name} {key}: {now.get(key)!r}, snapshot {data.get(key)!r}")
        for name, data in snap.secrets.items():
            raw = self._get_or_none(functools.partial(self._cluster.get_secret, ns, name))
            if raw is None:
                out.append(f"Secret {name} is gone")
                continue
            enc = {k: base64.b64encode(v).decode("ascii") for k, v in raw.items()}
            changed = sorted(k for k in set(data) | set(enc) if data.get(k) != enc.get(k))
            if changed:
                out.append(f"Secret {name} differs in key(s) {', '.join(changed)}")
        for name, want in snap.replicas.items():
            dep = self._get_or_none(functools.partial(self._cluster.get_deployment, ns, name))
            if dep is None:
                out.append(f"Deployment {name} is gone")
            elif dep.replicas != want:
                out.append(f"Deployment {name} replicas {dep.replicas}, snapshot {want}")
        for name, template in snap.templates.items():
            now_t = self._template(ns, name)
            if now_t is not None and now_t != template:
                out.append(f"Deployment {name} pod template changed at "
                           f"{', '.join(changed_paths(template, now_t)[:4])}")
        out += [f"ConfigMap {name} was created (absent at the snapshot)"
                for name in self._created(snap)]
        return out

    def restore(self, snap: Snapshot) -> list[str]:
        """Put back what differs; return the actions taken."""
        ns = snap.namespace
        actions: list[str] = []
        for name, data in snap.configmaps.items():
            now = self._get_or_none(functools.partial(self._cluster.get_configmap, ns, name))
            if now is not None and now != data:
                self._cluster.replace_configmap(ns, name, data)
                actions.append(f"ConfigMap {name} restored")
        for name, enc in snap.secrets.items():
            raw = self._get_or_none(functools.partial(self._cluster.get_secret, ns, name))
            want = {k: base64.b64decode(v) for k, v in enc.items()}
            if raw is not None and raw != want:
                self._cluster.replace_secret(ns, name, want)
                actions.append(f"Secret {name} restored")
        for name, replicas in snap.replicas.items():
            dep = self._get_or_none(functools.partial(self._cluster.get_deployment, ns, name))
            if dep is not None and dep.replicas != replicas:
                self._cluster.scale_deployment(ns, name, replicas)
                actions.append(f"Deployment {name} scaled back to {replicas}")
        rolled: list[str] = []
        for name, template in snap.templates.items():
            now_t = self._template(ns, name)
            if now_t is not None and now_t != template:
                self._cluster.replace_pod_template(ns, name, template)
                rolled.append(name)
                actions.append(f"Deployment {name} pod template put back "
                               f"({', '.join(changed_paths(template, now_t)[:4])})")
        if rolled:
            got = readiness.wait(self._cluster, ns, workloads=tuple(rolled),
                                 timeout_s=self.settle_s, require_replicas=False,
                                 pod_http=self.pod_http)
            actions.append(f"{', '.join(rolled)} rolled out and ready again" if got.ok else
                           f"{', '.join(rolled)} not ready {self.settle_s:.0f} s after the "
                           f"rollout: {got.describe()}")
        for name in self._created(snap):
            self._cluster.delete_object("v1", "ConfigMap", ns, name)
            actions.append(f"ConfigMap {name} removed (absent at the snapshot)")
        return actions

    @staticmethod
    def _get_or_none(fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except ObjectNotFound:
            return None


def changed_paths(was: Any, now: Any, at: str = "") -> list[str]:
    """Where two JSON-like values differ, as dotted paths (lists by index), for a reader."""
    if isinstance(was, dict) and isinstance(now, dict):
        out: list[str] = []
        for key in sorted(set(was) | set(now)):
            if was.get(key) != now.get(key):
                out += changed_paths(was.get(key), now.get(key), f"{at}.{key}" if at else key)
        return out
    if isinstance(was, list) and isinstance(now, list) and len(was) == len(now):
        return [p for i, (a, b) in enumerate(zip(was, now, strict=True))
                for p in changed_paths(a, b, f"{at}[{i}]")]
    return [] if was == now else [at or "(whole)"]


class SnapshotStore:
    """One snapshot file per (context, namespace) under pfdrill's state dir."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, context: str, namespace: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in context)
        return self.directory / safe / f"{namespace}.json"

    def save(self, snap: Snapshot) -> Path:
        path = self.path(snap.context, snap.namespace)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(snap.to_dict(), fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # atomic: a crash leaves the old file or the new, never half
        return path

    def load(self, context: str, namespace: str) -> Snapshot | None:
        path = self.path(context, namespace)
        if not path.is_file():
            return None
        return Snapshot.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def clear(self, context: str, namespace: str) -> None:
        self.path(context, namespace).unlink(missing_ok=True)
