"""What a run may leave behind in the drill environment, looked at as a whole (issue 11,
"Nothing left behind").

:func:`world` is everything a drill, ``runbook check``, ``fault inject`` or the gate
could change and a restore must put back: every object of the drill namespace by
content (ConfigMap and Secret data, Deployment replicas and pod templates, Service
specs, Lease holders), the pods each Deployment runs, the live alert rule files
and the processes of the observability stack, and no process left running that
a run started (locust, port-forwards, fault workers, anything carrying a run's
``PFDRILL_RUN`` mark). Content, not ``resourceVersion``: a restore writes objects
back, which moves their versions without changing them.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil

from pfdrill.obs import stack as obs_stack
from pfdrill.proc import lineage

NS = "production"
LEFT_BEHIND = ("locust", "port-forward", "pfdrill.faults.worker")


def _items(cluster: Any, kind: str) -> list[dict[str, Any]]:
    got = subprocess.run([str(cluster.kubectl), "get", kind, "-n", NS, "-o", "json"],
                         env=cluster.env, capture_output=True, text=True, timeout=60, check=True)
    return list(json.loads(got.stdout)["items"])


def objects(cluster: Any) -> dict[str, Any]:
    """Every object of the namespace a run could change, by what it holds."""
    out: dict[str, Any] = {}
    for item in _items(cluster, "configmaps"):
        if item["metadata"]["name"] != "kube-root-ca.crt":  # the API server's own
            out[f"configmap/{item['metadata']['name']}"] = item.get("data", {})
    for item in _items(cluster, "secrets"):
        out[f"secret/{item['metadata']['name']}"] = item.get("data", {})
    for item in _items(cluster, "deployments"):
        spec = item["spec"]
        out[f"deployment/{item['metadata']['name']}"] = {
            "replicas": spec.get("replicas"), "template": spec.get("template")}
    for item in _items(cluster, "services"):
        spec = item["spec"]
        out[f"service/{item['metadata']['name']}"] = {
            "selector": spec.get("selector"), "ports": spec.get("ports"), "type": spec.get("type")}
    for item in _items(cluster, "leases"):
        out[f"lease/{item['metadata']['name']}"] = (item.get("spec") or {}).get("holderIdentity")
    return out


def pods(cluster: Any) -> dict[str, int]:
    """Running pods per app label (their names change when a restore scales back up)."""
    count: dict[str, int] = {}
    for item in _items(cluster, "pods"):
        if item.get("metadata", {}).get("deletionTimestamp") or \
                (item.get("status") or {}).get("phase") != "Running":
            continue
        app = (item["metadata"].get("labels") or {}).get("app", item["metadata"]["name"])
        count[app] = count.get(app, 0) + 1
    return count


def left_running(state_dir: str) -> list[str]:
    """Locust, port-forwards, fault workers and run-marked processes of this state dir."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmd = " ".join(proc.info["cmdline"] or [])
            environ = proc.environ()
            if environ.get("PFDRILL_STATE_DIR") != state_dir:
                continue
            if any(w in cmd for w in LEFT_BEHIND) or lineage.RUN_VAR in environ:
                found.append(f"pid {proc.info['pid']}: {cmd[:120]}")
        except psutil.Error:
            continue
    return found


def observability(name: str) -> dict[str, Any]:
    """The live rule files and the observability processes' pids (none restarted),
    when the stack is up; empty when it is not."""
    stack = obs_stack.ObsStack(name)
    ep = stack.endpoints()
    if ep is None or not ep.rules_dir:
        return {}
    return {"rules": {p.name: p.read_text() for p in sorted(Path(ep.rules_dir).glob("*.yml"))},
            "pids": {c.name: c.pid for c in stack.status()}}


def world(cluster: Any) -> dict[str, Any]:
    """Everything above, for the cluster ``cluster`` (a ``drill_cluster``)."""
    return {"objects": objects(cluster), "pods": pods(cluster),
            "left running": left_running(cluster.env["PFDRILL_STATE_DIR"]),
            **observability(cluster.name)}


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed, one line each (keys of ``before`` only: a stack started meanwhile is
    not a leftover), for an assertion message a reader can act on."""
    out = []
    for part, was in before.items():
        now = after.get(part)
        if isinstance(was, dict) and isinstance(now, dict):
            for key in sorted(set(was) | set(now)):
                if was.get(key) != now.get(key):
                    out.append(f"{part} {key}: {str(was.get(key))[:200]} -> "
                               f"{str(now.get(key))[:200]}")
        elif was != now:
            out.append(f"{part}: {str(was)[:300]} -> {str(now)[:300]}")
    return out


def assert_as_before(cluster: Any, before: dict[str, Any], what: str, wait_s: float = 180) -> None:
    """The world equals ``before``, else an assertion naming every difference. Pods a
    rollback replaced may take a while to come back: looked at until ``wait_s`` passes."""
    deadline = time.monotonic() + wait_s
    while True:
        diff = differences(before, world(cluster))
        if not diff or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert not diff, f"{what} left behind:\n" + "\n".join(diff)
