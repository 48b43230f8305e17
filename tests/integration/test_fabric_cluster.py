"""The reference fabric deployed on the kwok drill cluster, run by the process runtime.

Mirrors issue 3's acceptance: deploy → both Deployments Ready with real
processes; decision lines in ``kubectl logs``; ``kubectl exec ... pkill -USR1``
dumps without a restart; a ``kubectl patch`` to shadow changes decisions within
5 s without a restart; scaling starts and stops processes; rollout restart
replaces them.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pfdrill.fabric import deploy, witness
from pfdrill.fabric.authority import Authority, Identity
from pfdrill.fabric.labels import Label
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths

pytestmark = [pytest.mark.cluster]
NS = "production"
RELOAD_BOUND_S = 5.0


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = check()
        except (OSError, ValueError, KeyError, httpx.HTTPError, subprocess.CalledProcessError):
            got = None
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def kubectl(cluster: Any, *args: str) -> str:
    done = subprocess.run([str(cluster.kubectl), "-n", NS, *args], env=cluster.env, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout


def runtime_pods(cluster: Any, app: str) -> dict[str, dict[str, Any]]:
    state = json.loads((cluster.runtime_dir / "state.json").read_text())
    return {k: v for k, v in state["pods"].items()
            if k.startswith(NS + "/") and v["name"].startswith(app + "-")}


def live_pids(cluster: Any, app: str) -> set[int]:
    pids = {c["pid"] for p in runtime_pods(cluster, app).values() for c in p["containers"].values()
            if c.get("pid") and c.get("ready")}
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


@pytest.fixture(scope="module")
def ca_paths(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    # The test cluster's CA lives in a temporary state dir, not the user's.
    return Paths(cache=tmp_path_factory.mktemp("cache"), state=tmp_path_factory.mktemp("state"))


@pytest.fixture(scope="module")
def fabric(drill_cluster: Any, ca_paths: Paths) -> Iterator[Any]:
    config = Config()
    try:
        status = deploy.deploy(drill_cluster.client, config=config, paths=ca_paths, timeout_s=180)
        assert status.ready
        yield drill_cluster
    finally:
        deploy.undeploy(drill_cluster.client, config=config)


@pytest.fixture(scope="module")
def frontend(fabric: Any, ca_paths: Paths) -> Identity:
    ca = Authority.for_context(fabric.context, ca_paths)
    return ca.issue("svc-frontend", ["login", "read", "write", "review", "logout"], Label.INTERNAL)


def watcher_url(cluster: Any) -> str:
    services = json.loads((cluster.runtime_dir / "services.json").read_text())
    return f"http://{services[f'{NS}/sidecar-watcher']['address']}"


def decide(cluster: Any, ident: Identity, trace: list[str]) -> httpx.Response:
    labels = {"source": "internal", "destination": "internal"}
    body = {"principal": ident.principal, "action": "read", "trace": trace, "labels": labels,
            "certificate": ident.certificate,
            "witness": witness.sign(ident.signing_key(), witness.message(
                ident.principal, "read", trace, labels, ident.certificate))}
    return httpx.post(watcher_url(cluster) + "/v1/decide", json=body, timeout=5)


def restarts(cluster: Any, app: str) -> int:
    return sum(p.restarts for p in cluster.client.list_pods(NS, f"app={app}"))


def test_deployed_with_real_processes_behind_both_deployments(fabric: Any) -> None:
    wait_for(lambda: len(live_pids(fabric, "sidecar-watcher")) == 2, what="2 watcher processes")
    wait_for(lambda: len(live_pids(fabric, "policy-adapter")) == 1, what="1 adapter process")
    for pid in live_pids(fabric, "sidecar-watcher"):
        assert Path(f"/proc/{pid}/comm").read_text().strip() == "sidecar-watcher"


def test_decisions_reach_kubectl_logs(fabric: Any, frontend: Identity) -> None:
    assert wait_for(lambda: decide(fabric, frontend, ["login"]).status_code == 200, what="an allow")
    refused = decide(fabric, frontend, [])
    assert refused.status_code == 403
    # this decision's own line: `kubectl logs -l` prints pod after pod, and the drill load
    # (when another module left it running) writes rejects of its own
    mark = f"request_id={refused.json()['request_id']} "
    line = wait_for(lambda: next((ln for ln in kubectl(
        fabric, "logs", "-l", "app=sidecar-watcher", "--tail=-1").splitlines() if mark in ln), None),
        what=f"the decision's line ({mark.strip()}) in kubectl logs")
    assert "tags=REJECT" in line and "outcome=reject" in line
    assert "principal=svc-frontend" in line and "reason=dfa" in line


def test_exec_pkill_usr1_dumps_without_restart(fabric: Any) -> None:
    before = restarts(fabric, "sidecar-watcher")
    pids = live_pids(fabric, "sidecar-watcher")
    kubectl(fabric, "exec", "deployment/sidecar-watcher", "--", "pkill", "-USR1", "sidecar-watcher")
    wait_for(lambda: "event=state_dump" in kubectl(fabric, "logs", "-l", "app=sidecar-watcher", "--tail=-1"),
             timeout=15, what="a state dump line")
    assert restarts(fabric, "sidecar-watcher") == before
    assert live_pids(fabric, "sidecar-watcher") == pids


def test_patch_to_shadow_changes_decisions_within_5s_without_restart(fabric: Any,
                                                                     frontend: Identity) -> None:
    pids = live_pids(fabric, "sidecar-watcher")
    assert decide(fabric, frontend, []).status_code == 403
    kubectl(fabric, "patch", "configmap", "policy-config", "--patch",
            '{"data":{"enforcement_mode":"shadow"}}')
    try:
        # Both replicas behind the Service proxy must have switched.
        wait_for(lambda: all(decide(fabric, frontend, []).status_code == 200 for _ in range(6)),
                 timeout=RELOAD_BOUND_S, what="shadow mode on every replica")
        assert live_pids(fabric, "sidecar-watcher") == pids
    finally:
        kubectl(fabric, "patch", "configmap", "policy-config", "--patch",
                '{"data":{"enforcement_mode":"enforce"}}')
    wait_for(lambda: all(decide(fabric, frontend, []).status_code == 403 for _ in range(6)),
             timeout=RELOAD_BOUND_S, what="enforce again")


def test_scaling_stops_and_starts_processes(fabric: Any) -> None:
    kubectl(fabric, "scale", "deployment/sidecar-watcher", "--replicas=0")
    wait_for(lambda: not live_pids(fabric, "sidecar-watcher")
             and not fabric.client.list_pods(NS, "app=sidecar-watcher"), what="no watcher processes")
    kubectl(fabric, "scale", "deployment/sidecar-watcher", "--replicas=3")
    wait_for(lambda: len(live_pids(fabric, "sidecar-watcher")) == 3, what="3 watcher processes")
    wait_for(lambda: fabric.client.get_deployment(NS, "sidecar-watcher").settled, what="3/3 ready")
    kubectl(fabric, "scale", "deployment/sidecar-watcher", "--replicas=2")
    wait_for(lambda: len(live_pids(fabric, "sidecar-watcher")) == 2, what="back to 2")


def test_rollout_restart_replaces_the_processes(fabric: Any) -> None:
    old = live_pids(fabric, "sidecar-watcher")
    kubectl(fabric, "rollout", "restart", "deployment/sidecar-watcher")
    wait_for(lambda: (new := live_pids(fabric, "sidecar-watcher")) and len(new) == 2 and not (new & old),
             timeout=120, what="2 new watcher processes")
    wait_for(lambda: fabric.client.get_deployment(NS, "sidecar-watcher").settled, what="rollout settled")
