"""Turning a pod spec into what a local process needs: argv, env, ports, volume paths.

Pure functions over the pod as a dict, so they are unit-tested without a cluster.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

Obj = dict[str, Any]

RUNTIME_ANNOTATION = "pfdrill.dev/runtime"
RUNTIME_VALUE = "process"
STAND_IN_ANNOTATION = "pfdrill.dev/stand-in"

_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\$")


def wants_runtime(pod: Obj) -> bool:
    ann = (pod.get("metadata") or {}).get("annotations") or {}
    return ann.get(RUNTIME_ANNOTATION) == RUNTIME_VALUE or STAND_IN_ANNOTATION in ann


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: unknown references stay as written, ``$$`` escapes."""
    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env.get(name, m.group(0))
    return _VAR.sub(sub, text)


def env_name(service: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", service).upper()


@dataclasses.dataclass(frozen=True)
class PortAssignment:
    name: str
    container_port: int
    local_port: int


def port_env(ports: list[PortAssignment]) -> dict[str, str]:
    env: dict[str, str] = {}
    if ports:
        env["PORT"] = str(ports[0].local_port)
    for p in ports:
        if p.name:
            env[f"PORT_{env_name(p.name)}"] = str(p.local_port)
    return env


def service_env(services: Mapping[str, Mapping[str, int]]) -> dict[str, str]:
    """``<SVC>_SERVICE_HOST`` / ``_SERVICE_PORT`` / ``_SERVICE_PORT_<NAME>`` like the kubelet sets."""
    env: dict[str, str] = {}
    for svc, ports in sorted(services.items()):
        if not ports:
            continue
        prefix = env_name(svc)
        env[f"{prefix}_SERVICE_HOST"] = "127.0.0.1"
        first = next(iter(ports.values()))
        env[f"{prefix}_SERVICE_PORT"] = str(first)
        for pname, local in ports.items():
            if pname:
                env[f"{prefix}_SERVICE_PORT_{env_name(pname)}"] = str(local)
    return env


def translate_paths(value: str, mounts: Mapping[str, Path]) -> str:
    """Rewrite a value that is, or starts with, an absolute mountPath to the projected dir."""
    for mount_path in sorted(mounts, key=len, reverse=True):
        if value == mount_path:
            return str(mounts[mount_path])
        if value.startswith(mount_path.rstrip("/") + "/"):
            return str(mounts[mount_path]) + value[len(mount_path.rstrip("/")):]
        # --flag=/mount/path form
        if "=" in value:
            head, _, tail = value.partition("=")
            if tail == mount_path or tail.startswith(mount_path.rstrip("/") + "/"):
                return head + "=" + translate_paths(tail, mounts)
    return value


def resolve_env(
    container: Obj,
    pod: Obj,
    configmaps: Mapping[str, Mapping[str, str]],
    secrets: Mapping[str, Mapping[str, bytes]],
) -> tuple[dict[str, str], list[str]]:
    """The container's declared env; returns (env, problems) — problems are unresolved refs."""
    env: dict[str, str] = {}
    problems: list[str] = []
    meta = pod.get("metadata") or {}
    for item in container.get("envFrom") or []:
        if ref := item.get("configMapRef"):
            data = configmaps.get(ref.get("name", ""))
            if data is None:
                if not ref.get("optional"):
                    problems.append(f"configmap {ref.get('name')} not found")
                continue
            prefix = item.get("prefix", "")
            env.update({prefix + k: v for k, v in data.items()})
        if ref := item.get("secretRef"):
            sdata = secrets.get(ref.get("name", ""))
            if sdata is None:
                if not ref.get("optional"):
                    problems.append(f"secret {ref.get('name')} not found")
                continue
            prefix = item.get("prefix", "")
            env.update({prefix + k: v.decode("utf-8", "replace") for k, v in sdata.items()})
    for e in container.get("env") or []:
        name = e["name"]
        if "value" in e:
            env[name] = expand(str(e["value"]), env)
            continue
        src = e.get("valueFrom") or {}
        if ref := src.get("configMapKeyRef"):
            value = (configmaps.get(ref.get("name", "")) or {}).get(ref.get("key", ""))
            if value is None and not ref.get("optional"):
                problems.append(f"configmap key {ref.get('name')}/{ref.get('key')} not found")
            if value is not None:
                env[name] = value
        elif ref := src.get("secretKeyRef"):
            raw = (secrets.get(ref.get("name", "")) or {}).get(ref.get("key", ""))
            if raw is None and not ref.get("optional"):
                problems.append(f"secret key {ref.get('name')}/{ref.get('key')} not found")
            if raw is not None:
                env[name] = raw.decode("utf-8", "replace")
        elif ref := src.get("fieldRef"):
            path = ref.get("fieldPath", "")
            env[name] = {
                "metadata.name": meta.get("name", ""),
                "metadata.namespace": meta.get("namespace", ""),
                "metadata.uid": meta.get("uid", ""),
                "status.podIP": "127.0.0.1",
                "status.hostIP": "127.0.0.1",
                "spec.nodeName": (pod.get("spec") or {}).get("nodeName", ""),
                "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName", ""),
            }.get(path, "")
        else:
            env[name] = ""
    return env, problems


def readiness_path(container: Obj) -> tuple[str, str] | None:
    """(port name-or-number, path) of an httpGet readinessProbe, if any."""
    probe = container.get("readinessProbe") or {}
    get = probe.get("httpGet")
    if not get:
        return None
    return str(get.get("port", "")), str(get.get("path", "/"))


def scrape_annotations(pod: Obj) -> tuple[str, str] | None:
    ann = (pod.get("metadata") or {}).get("annotations") or {}
    if ann.get("prometheus.io/scrape") != "true":
        return None
    return ann.get("prometheus.io/port", ""), ann.get("prometheus.io/path", "/metrics")


def find_port(ports: list[PortAssignment], ref: str) -> PortAssignment | None:
    for p in ports:
        if ref == p.name or ref == str(p.container_port):
            return p
    return ports[0] if ports and not ref else None
