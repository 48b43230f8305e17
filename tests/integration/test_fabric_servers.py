"""The real sidecar-watcher and policy-adapter as separate local processes, over real HTTP.

Volumes are projected the kubelet's way (``..data`` symlink swaps), so these
tests exercise hot reload exactly as a cluster would drive it.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pfdrill.fabric import witness
from pfdrill.fabric.authority import Identity
from pfdrill.fabric.labels import Label
from pfdrill.fabric.local import LocalFabric, Process

pytestmark = pytest.mark.servers
RELOAD_BOUND_S = 5.0  # the acceptance bound for a ConfigMap change to take effect


@pytest.fixture
def fabric(tmp_path: Path) -> Iterator[LocalFabric]:
    with LocalFabric(root=tmp_path / "fabric") as f:
        f.start(watchers=1)
        yield f


@pytest.fixture
def frontend(fabric: LocalFabric) -> Identity:
    return fabric.authority.issue("svc-frontend", ["login", "read", "write", "review", "logout"],
                                  Label.INTERNAL)


def decide(p: Process, ident: Identity | None, action: str = "read", trace: list[str] | None = None,
           src: str = "internal", dst: str = "internal") -> httpx.Response:
    trace = ["login"] if trace is None else trace
    labels = {"source": src, "destination": dst}
    data: dict[str, Any] = {"principal": "svc-frontend", "action": action, "trace": trace, "labels": labels}
    if ident is not None:
        data["certificate"] = ident.certificate
        data["witness"] = witness.sign(ident.signing_key(), witness.message(
            ident.principal, action, trace, labels, ident.certificate))
    return httpx.post(p.url + "/v1/decide", json=data, timeout=5)


def metric(p: Process, name: str, **labels: str) -> float:
    text = httpx.get(p.url + "/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def eventually(check: Callable[[], bool], bound_s: float = RELOAD_BOUND_S) -> None:
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    assert check(), f"condition not met within {bound_s}s"


def test_decisions_logs_and_metrics_over_http(fabric: LocalFabric, frontend: Identity) -> None:
    w = fabric.watchers[0]
    assert decide(w, frontend).status_code == 200
    rejected = decide(w, frontend, src="secret", dst="public")
    assert rejected.status_code == 403 and rejected.json()["reason"] == "ni"
    assert decide(w, None).json()["rule"] == "certificate:missing"
    assert metric(w, "decisions_total", mode="enforce", outcome="reject") == 2
    # certs_total counts certificates presented: the request without one is not among them.
    assert metric(w, "certs_verified_total") == 2 and metric(w, "certs_total") == 2
    eventually(lambda: sum(ln.event == "decision" for ln in w.lines()) == 3)
    text = w.log.read_text()
    grep = [ln for ln in text.splitlines() if any(word in ln for word in ("VIOLATION", "REJECT", "ERROR"))]
    assert len(grep) == 2 and all("principal=svc-frontend" in ln for ln in grep)
    assert any("UNAUTHORIZED" in ln for ln in grep)
    assert Path(f"/proc/{w.pid}/comm").read_text().strip() == "sidecar-watcher"  # pkill finds it


def test_hot_reload_to_shadow_without_restart(fabric: LocalFabric, frontend: Identity) -> None:
    w = fabric.watchers[0]
    assert decide(w, frontend, trace=[]).status_code == 403
    fabric.update("policy-config", enforcement_mode="shadow")
    eventually(lambda: decide(w, frontend, trace=[]).status_code == 200)
    answer = decide(w, frontend, trace=[]).json()
    assert answer["outcome"] == "would_reject" and answer["mode"] == "shadow"
    assert w.proc.poll() is None and metric(w, "enforcement_mode", mode="shadow") == 1
    assert sum(ln.event == "listening" for ln in w.lines()) == 1  # same process throughout
    assert any("POLICY_VIOLATION" in ln.tags and ln.fields.get("mode") == "shadow" for ln in w.lines())


def test_invalid_config_is_refused_loudly_and_enforcement_stays(fabric: LocalFabric,
                                                                frontend: Identity) -> None:
    w = fabric.watchers[0]
    fabric.update("policy-config", enforcement_mode="off-ish")
    eventually(lambda: metric(w, "config_reloads_total", result="failure") == 1)
    assert metric(w, "config_last_reload_success") == 0
    assert decide(w, frontend, trace=[]).status_code == 403
    errors = [ln for ln in w.lines() if ln.level == "ERROR"]
    assert errors and "enforcement_mode='off-ish'" in errors[-1].fields["msg"]
    fabric.update("policy-config", enforcement_mode="monitor")
    eventually(lambda: metric(w, "config_last_reload_success") == 1)


def test_tampered_dfa_is_refused_and_the_last_good_one_kept(fabric: LocalFabric, frontend: Identity) -> None:
    w = fabric.watchers[0]
    data = dict(fabric.data["dfa-artifact"])
    data["dfa.json"] = data["dfa.json"].replace('"anonymous": {"login": "active"}',
                                                '"anonymous": {"login": "active", "read": "active"}')
    fabric.replace("dfa-artifact", data)
    eventually(lambda: metric(w, "dfa_integrity_ok") == 0)
    assert metric(w, "dfa_load_failures_total", reason="sha256") == 1
    assert decide(w, frontend, trace=[]).status_code == 403  # the last good DFA still says no
    assert any("DFA_INTEGRITY" in ln.tags for ln in w.lines())


def test_corrupt_trust_bundle_and_malformed_json_keep_the_service_running(
        fabric: LocalFabric, frontend: Identity) -> None:
    w = fabric.watchers[0]
    fabric.replace("fabric-certs", {"trust-bundle.json": "{ not json"})
    eventually(lambda: metric(w, "trust_bundle_ok") == 0)
    bad = httpx.post(w.url + "/v1/decide", content=b"{\"principal\": ", timeout=5)
    assert bad.status_code == 400 and bad.json()["reason"] == "malformed"
    assert metric(w, "permit_rejects_total", reason="malformed") == 1
    assert decide(w, frontend).status_code == 200
    assert httpx.get(w.url + "/healthz", timeout=5).status_code == 200


def test_sigusr1_writes_a_dump_and_keeps_serving(fabric: LocalFabric, frontend: Identity) -> None:
    w = fabric.watchers[0]
    decide(w, frontend, trace=[])
    os.kill(w.pid, signal.SIGUSR1)
    eventually(lambda: any(ln.event == "state_dump" for ln in w.lines()))
    path = Path(next(ln for ln in w.lines() if ln.event == "state_dump").fields["path"])
    assert path.parent == w.workdir.resolve()
    dump = json.loads(path.read_text())
    assert dump["config"]["enforcement_mode"] == "enforce"
    assert dump["recent_decisions"][-1]["reason"] == "dfa"
    assert any(c["name"] == "requests_total" and c["value"] == 1 for c in dump["counters"])
    assert w.proc.poll() is None and decide(w, frontend).status_code == 200


def test_adapter_down_fail_closed_then_fail_open(fabric: LocalFabric, frontend: Identity) -> None:
    w = fabric.watchers[0]
    assert fabric.adapter is not None
    fabric.terminate(fabric.adapter)
    closed = decide(w, frontend)
    assert closed.status_code == 403 and closed.json()["rule"] == "adapter:connect fail_closed"
    assert metric(w, "policy_adapter_errors_total", kind="connect") == 1
    fabric.update("policy-config", adapter_failure_mode="fail_open")
    eventually(lambda: decide(w, frontend).status_code == 200)
    assert metric(w, "policy_adapter_fail_open_total") >= 1
    assert any("BYPASS" in ln.tags for ln in w.lines() if ln.event == "decision")


def test_slow_adapter_times_out_and_error_rate_fails_calls(fabric: LocalFabric, frontend: Identity) -> None:
    w = fabric.watchers[0]
    fabric.update("policy-config", adapter_timeout_ms="100")
    fabric.update("policy-adapter-config", added_latency_ms="400")
    eventually(lambda: decide(w, frontend).json().get("rule") == "adapter:timeout fail_closed")
    assert metric(w, "policy_adapter_errors_total", kind="timeout") >= 1
    fabric.update("policy-adapter-config", added_latency_ms="0", error_rate="1")
    eventually(lambda: decide(w, frontend).json().get("rule") == "adapter:http_status fail_closed")
    assert fabric.adapter is not None and fabric.adapter.proc.poll() is None
