"""The one readiness predicate: rollout, pods, endpoints and each pod's own /readyz."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path
from typing import Any

from pfdrill.cluster.fake import FakeCluster
from pfdrill.fabric import readiness
from pfdrill.model.cluster import PodInfo

PROBE = {"httpGet": {"path": "/readyz", "port": 8080}}


def _cluster() -> FakeCluster:
    c = FakeCluster()
    c.add_namespace("production")
    for name, n in (("sidecar-watcher", 2), ("policy-adapter", 1)):
        c.add_deployment("production", name, n)
        dep = c._get("apps/v1", "Deployment", "production", name)
        dep["spec"]["template"]["spec"] = {"containers": [{"name": name, "readinessProbe": PROBE}]}
        c._put({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": "production"},
                "spec": {"selector": {"app": name}}})
    return c


class Answers:
    def __init__(self, status: dict[str, int | None]) -> None:
        self.status = status
        self.asked: list[tuple[str, str, str]] = []

    def get(self, pod: PodInfo, port: str, path: str) -> int | None:
        self.asked.append((pod.name, port, path))
        return self.status.get(pod.name, 200)


def _pod(c: FakeCluster, app: str) -> dict[str, Any]:
    return next(o for k, o in c._objects.items() if k[1] == "Pod"
                and o["metadata"]["labels"].get("app") == app)


def test_a_settled_fabric_whose_pods_answer_is_ready() -> None:
    c = _cluster()
    answers = Answers({})
    got = readiness.check(c, "production", pod_http=answers)
    assert got.ok, got.describe()
    assert sorted(p for p, _port, _path in answers.asked) == sorted(
        p.name for p in c.list_pods("production"))
    assert {(port, path) for _p, port, path in answers.asked} == {("8080", "/readyz")}


def test_a_pod_marked_ready_whose_process_does_not_answer_is_not_ready() -> None:
    c = _cluster()
    pod = _pod(c, "policy-adapter")["metadata"]["name"]
    got = readiness.check(c, "production", pod_http=Answers({pod: None}))
    assert not got.ok
    assert got.of("policy-adapter") is not None
    assert got.describe().endswith(f"policy-adapter: {pod} /readyz answered nothing")
    assert got.of("sidecar-watcher").ok  # type: ignore[union-attr]


def test_ready_but_not_yet_available_is_not_ready() -> None:
    c = _cluster()
    dep = c._get("apps/v1", "Deployment", "production", "policy-adapter")
    dep["status"]["availableReplicas"] = 0  # kwok: Ready at once, minReadySeconds not yet over
    got = readiness.check(c, "production", pod_http=Answers({}))
    assert "policy-adapter: 0/1 available (1 ready)" in got.describe()


def test_a_pod_not_in_the_endpoints_or_terminating_is_not_ready() -> None:
    c = _cluster()
    pod = _pod(c, "sidecar-watcher")
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    got = readiness.check(c, "production")
    assert f"pod(s) not Ready: {pod['metadata']['name']}" in got.describe()
    pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    got = readiness.check(c, "production")
    assert f"pod(s) terminating: {pod['metadata']['name']}" in got.describe()


def test_scaled_to_zero_is_settled_but_not_ready_unless_allowed() -> None:
    c = _cluster()
    c.scale_deployment("production", "policy-adapter", 0)
    assert "scaled to 0 replicas" in readiness.check(c, "production").describe()
    assert readiness.check(c, "production", require_replicas=False).ok


def test_wait_returns_the_last_answer_when_time_runs_out() -> None:
    c = _cluster()
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    got = readiness.wait(c, "production", timeout_s=3, poll_s=1, pod_http=Answers(
        {p.name: 503 for p in c.list_pods("production")}), clock=lambda: now[0], sleep=sleep)
    assert not got.ok and now[0] == 3.0 and "answered 503" in got.describe()


class _Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


def test_runtime_pods_find_the_local_port_in_the_runtime_state(tmp_path: Path) -> None:
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ready) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            port = server.server_address[1]
            (tmp_path / "state.json").write_text(json.dumps({"pods": {"production/w-1": {
                "ports": {"w": [{"name": "http", "containerPort": 8080, "local": port}]}}}}))
            pods = readiness.pod_http(FakeCluster(), tmp_path)
            assert isinstance(pods, readiness.RuntimePods)
            w1 = PodInfo("production", "w-1", "u", "Running", True, 0, "n", {}, {})
            w2 = PodInfo("production", "w-2", "u", "Running", True, 0, "n", {}, {})
            assert pods.get(w1, "8080", "/readyz") == 200
            assert pods.get(w1, "http", "/healthz") == 404
            assert pods.get(w2, "8080", "/readyz") is None  # not the runtime's: unreachable
        finally:
            server.shutdown()
            thread.join(5)


def test_without_a_runtime_pods_are_asked_through_the_api_server(tmp_path: Path) -> None:
    c = _cluster()
    pods = readiness.pod_http(c, tmp_path)  # no state.json: not a kwok runtime
    assert isinstance(pods, readiness.ApiServerPods)
    pod = _pod(c, "policy-adapter")["metadata"]["name"]
    c.pod_answers[("production", pod, "/readyz")] = 503
    got = readiness.check(c, "production", pod_http=pods)
    assert got.describe().endswith(f"{pod} /readyz answered 503")
