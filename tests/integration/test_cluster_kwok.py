"""The embedded kwok cluster: a real API server, controllers and scheduler (issue 2)."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest

pytestmark = [pytest.mark.cluster]


def kubectl(cluster: Any, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cluster.kubectl), *args], env=cluster.env, capture_output=True,
                          text=True, check=check, timeout=60)


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_nodes_are_kwok_nodes(drill_cluster: Any) -> None:
    out = json.loads(kubectl(drill_cluster, "get", "nodes", "-o", "json").stdout)
    assert len(out["items"]) >= 2
    for node in out["items"]:
        assert node["metadata"]["annotations"].get("kwok.x-k8s.io/node") == "fake"
        ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert ready["Ready"] == "True"


def test_server_is_the_go_built_release_bound_to_loopback(drill_cluster: Any) -> None:
    version = json.loads(kubectl(drill_cluster, "version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.36.1"
    assert version["clientVersion"]["gitVersion"] == "v1.36.1"
    assert drill_cluster.info.cluster.server.startswith("https://127.0.0.1:")


def test_deployment_scheduling_scaling_and_events(drill_cluster: Any) -> None:
    ns = "it-deploy"
    kubectl(drill_cluster, "create", "namespace", ns)
    try:
        kubectl(drill_cluster, "-n", ns, "create", "deployment", "web", "--image=nginx", "--replicas=3")

        def running() -> int:
            pods = json.loads(kubectl(drill_cluster, "-n", ns, "get", "pods", "-o", "json").stdout)["items"]
            return sum(1 for p in pods if p["status"].get("phase") == "Running"
                       and not p["metadata"].get("deletionTimestamp"))

        wait_for(lambda: running() == 3, what="3 Running pods")
        kubectl(drill_cluster, "-n", ns, "scale", "deployment", "web", "--replicas=0")
        wait_for(lambda: running() == 0, what="scale to 0")
        kubectl(drill_cluster, "-n", ns, "scale", "deployment", "web", "--replicas=3")
        wait_for(lambda: running() == 3, what="scale back to 3")
        events = kubectl(drill_cluster, "-n", ns, "get", "events").stdout
        assert "ScalingReplicaSet" in events and "SuccessfulCreate" in events and "Scheduled" in events
    finally:
        kubectl(drill_cluster, "delete", "namespace", ns, "--wait=false", check=False)


def test_kwokctl_dry_run_downloads_nothing(drill_cluster: Any) -> None:
    from pfdrill.cluster.kwok import KwokProvider

    out = KwokProvider("dry-run-check", paths=drill_cluster.stack.paths).dry_run()
    downloads = [ln for ln in out.splitlines() if ln.startswith("# Download")]
    assert len(downloads) >= 5
    assert not [ln for ln in downloads if "http://" in ln or "https://" in ln]
    assert "kubectl" not in " ".join(ln for ln in out.splitlines() if "http" in ln)
