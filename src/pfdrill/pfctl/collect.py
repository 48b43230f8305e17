"""``pfctl collect``: a tarball of the system state for the incident record.

Contents: ``manifest.json`` (what is inside, what could not be collected),
``configmaps/<name>.yaml``, ``secrets.json`` (names and keys only — never
values), ``deployments.json``, ``pods.json``, ``events.json``,
``logs/<pod>.log`` for the fabric pods, and ``metrics.json`` (the fabric's
series from Prometheus, when one is configured).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import yaml

from pfdrill.errors import ClusterError, ServiceUnavailable
from pfdrill.model.fabric import FABRIC
from pfdrill.model.metrics import JOB_ADAPTER, JOB_WATCHER
from pfdrill.pfctl.context import Context


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode()


def _metrics(ctx: Context) -> Any:
    if not ctx.env.prometheus_url:
        raise ServiceUnavailable("no Prometheus configured for this environment")
    from pfdrill.obs.api import PrometheusAPI

    prom = PrometheusAPI(ctx.env.prometheus_url)
    try:
        samples = prom.query(f'{{job=~"{JOB_WATCHER}|{JOB_ADAPTER}"}}')
    finally:
        prom.close()
    return [{"metric": s.labels, "value": s.value} for s in samples]


def collect(ctx: Context, output: Path) -> dict[str, Any]:
    ns = ctx.namespace
    manifest: dict[str, Any] = {"namespace": ns, "context": ctx.env.context,
                                "collected_at": dt.datetime.now(dt.UTC).isoformat(),
                                "files": [], "missing": {}}
    files: dict[str, bytes] = {}

    def attempt(name: str, produce: Any) -> None:
        try:
            files[name] = produce()
        except (ClusterError, ServiceUnavailable, OSError) as exc:
            manifest["missing"][name] = str(exc)

    for cm in ctx.client.list_objects("v1", "ConfigMap", ns):
        name = cm["metadata"]["name"]
        files[f"configmaps/{name}.yaml"] = yaml.safe_dump(
            {"name": name, "data": cm.get("data") or {}}, sort_keys=True).encode()
    attempt("secrets.json", lambda: _json([
        {"name": s["metadata"]["name"], "keys": sorted((s.get("data") or {}).keys())}
        for s in ctx.client.list_objects("v1", "Secret", ns)]))
    attempt("deployments.json", lambda: _json([
        ctx.client.get_deployment(ns, d["metadata"]["name"]).to_dict()
        for d in ctx.client.list_objects("apps/v1", "Deployment", ns)]))
    attempt("pods.json", lambda: _json([p.to_dict() for p in ctx.client.list_pods(ns)]))
    attempt("events.json", lambda: _json([e.to_dict() for e in ctx.client.list_events(ns)]))
    for selector in (FABRIC.watcher_selector, FABRIC.adapter_selector):
        try:
            for pod, text in ctx.logs.pod_logs(ns, selector).items():
                files[f"logs/{pod}.log"] = text.encode("utf-8", "replace")
        except ClusterError as exc:
            manifest["missing"][f"logs ({selector})"] = str(exc)
    attempt("metrics.json", lambda: _json(_metrics(ctx)))
    manifest["files"] = sorted(files)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(output, "w:gz") as tar:
        _add(tar, "manifest.json", _json(manifest))
        for name in sorted(files):
            _add(tar, name, files[name])
    return manifest
