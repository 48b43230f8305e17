"""``pfctl status``: one look at the fabric; ``status update``: the status page."""

from __future__ import annotations

from typing import Any

import httpx

from pfdrill.errors import ClusterError, InvalidInput, ServiceUnavailable
from pfdrill.fabric import certs, dfa
from pfdrill.fabric.policy import ConfigRefused, PolicyConfig
from pfdrill.model.fabric import FABRIC
from pfdrill.pfctl.context import Context

STATUSES = ("investigating", "identified", "monitoring", "resolved", "operational",
            "degraded", "maintenance")


def show(ctx: Context) -> dict[str, Any]:
    ns = ctx.namespace
    doc: dict[str, Any] = {"environment": ctx.env.name, "context": ctx.env.context,
                           "namespace": ns}
    try:
        data = ctx.client.get_configmap(ns, FABRIC.policy_config)
        doc["enforcement_mode"] = data.get("enforcement_mode", "(unset: enforce)")
        try:
            PolicyConfig.parse(data)
            doc["policy_config"] = "valid"
        except ConfigRefused as exc:
            doc["policy_config"] = f"INVALID: {exc}"
    except ClusterError as exc:
        doc["policy_config"] = f"unavailable: {exc}"
    for name in (FABRIC.watcher, FABRIC.adapter):
        try:
            st = ctx.client.get_deployment(ns, name)
            doc[name] = f"{st.ready}/{st.replicas} ready"
        except ClusterError as exc:
            doc[name] = f"unavailable: {exc}"
    try:
        files = {k: v.encode() for k, v in ctx.client.get_configmap(ns, FABRIC.dfa_artifact).items()}
        loaded = dfa.load_artifact(files)
        doc["dfa"] = f"{loaded.name} sha256 {loaded.sha256[:16]} (integrity ok)"
    except (dfa.DfaRefused, ClusterError) as exc:
        doc["dfa"] = f"PROBLEM: {exc}"
    try:
        raw = ctx.client.get_secret(ns, FABRIC.certs_secret).get(certs.BUNDLE_KEY, b"")
        bundle = certs.TrustBundle.parse(raw, source=FABRIC.certs_secret)
        doc["trust_bundle"] = f"{len(bundle.keys)} key(s) {', '.join(bundle.key_ids)}"
    except (InvalidInput, ClusterError) as exc:
        doc["trust_bundle"] = f"PROBLEM: {exc}"
    open_id = ctx.store.latest_open()
    doc["open_incident"] = open_id or "none"
    last = ctx.store.last_status()
    doc["status_page"] = f"{last['status']} ({last['at']})" if last else "no updates"
    return doc


def update(ctx: Context, status: str, message: str, incident_id: str | None) -> dict[str, Any]:
    if status not in STATUSES:
        raise InvalidInput(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    incident = ctx.incident_or_latest(incident_id)
    if incident is not None:
        try:
            ctx.store.incident(incident)
        except InvalidInput:
            incident = None
    ctx.store.add_status(status, message, incident)
    if ctx.env.sink_url:
        body = {"status": status, "message": message, "incident_id": incident}
        try:
            r = httpx.post(ctx.env.sink_url.rstrip("/") + "/statuspage", json=body, timeout=5.0,
                           trust_env=False)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"status page (sink) unreachable: {exc}") from exc
        if r.status_code >= 500:
            raise ServiceUnavailable(f"status page (sink) answered HTTP {r.status_code}")
    return {"status": status, "message": message, "incident_id": incident}
