"""The detection pipeline end to end with real processes and real HTTP.

A stand-in exporter (a tiny HTTP server this module writes and starts) serves
the fabric's metric contract with values a test sets; it is listed in a
file-SD targets file the way the process runtime lists pods. The real
Prometheus scrapes it and evaluates the drill-profile rules, the real
Alertmanager routes to the real notification sink.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pfdrill.classify import classifier, measure, thresholds
from pfdrill.detect import pipeline, timing
from pfdrill.errors import InvalidInput
from pfdrill.model import metrics
from pfdrill.model.detection import Channel
from pfdrill.model.severity import Severity
from pfdrill.model.signals import Baseline
from pfdrill.obs import profile as profiles
from pfdrill.obs import rules, stack
from pfdrill.obs.api import PrometheusAPI
from pfdrill.proc import ports
from pfdrill.settings import Paths
from pfdrill.sink.client import SinkClient

pytestmark = [pytest.mark.servers, pytest.mark.slow]

# The acceptance asks for two minutes of steady state without a single alert.
STEADY_S = float(os.environ.get("PFDRILL_STEADY_S", "120"))
DETECTION_SLA_S = 30.0
CLUSTER = "itest-obs"

EXPORTER = r'''
import http.server, json, sys, threading, time
gauges, counters, lock = {}, {}, threading.Lock()

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        now = time.time()
        with lock:
            lines = [f"{s} {v!r}" for s, v in gauges.items()]
            lines += [f"{s} {b + r * (now - t)!r}" for s, (b, r, t) in counters.items()]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        now = time.time()
        with lock:
            gauges.update(data.get("gauges", {}))
            for s, rate in data.get("rates", {}).items():
                b, r, t = counters.get(s, (0.0, 0.0, now))
                counters[s] = (b + r * (now - t), rate, now)  # counters keep counting up
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write(str(server.server_address[1]))
import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
'''

HEALTHY = {
    "gauges": {
        **{f'{metrics.ENFORCEMENT_MODE.name}{{mode="{m}"}}': float(m == "enforce")
           for m in metrics.ENFORCEMENT_MODES},
        metrics.BRIDGE_OK.name: 1.0, metrics.DFA_INTEGRITY_OK.name: 1.0,
        metrics.CONFIG_LAST_RELOAD_OK.name: 1.0, metrics.TRUST_BUNDLE_OK.name: 1.0,
        metrics.HIGH_ASSURANCE_MODE.name: 0.0,
    },
    "rates": {
        metrics.REQUESTS.name: 50.0, metrics.CERTS.name: 50.0, metrics.CERTS_VERIFIED.name: 50.0,
        metrics.WITNESS_VALIDATIONS.name: 20.0, metrics.WITNESS_FAILURES.name: 0.0,
        f'{metrics.PERMIT_REJECTS.name}{{reason="permit"}}': 2.0,
        metrics.NI_REJECTS.name: 0.0, metrics.HIGH_ASSURANCE_VIOLATIONS.name: 0.0,
        metrics.ADAPTER_FAIL_OPEN.name: 0.0,
        f'{metrics.ADAPTER_ERRORS.name}{{kind="timeout"}}': 0.0,
        f'{metrics.DFA_LOAD_FAILURES.name}{{reason="sha256"}}': 0.0,
        f"{metrics.MONITOR_DURATION.name}_count": 50.0,
        f"{metrics.MONITOR_DURATION.name}_sum": 0.25,  # 5 ms per decision
    },
}
BASELINE = Baseline(latency_mean_seconds=0.005, reject_rate=2.0)


class Exporter:
    def __init__(self, workdir: Path) -> None:
        script = workdir / "exporter.py"
        script.write_text(EXPORTER)
        port_file = workdir / "exporter.port"
        self.proc = subprocess.Popen([sys.executable, str(script), str(port_file)])
        deadline = time.monotonic() + 10
        while not port_file.exists():
            assert time.monotonic() < deadline, "exporter did not start"
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.url = f"http://127.0.0.1:{self.port}"

    def set(self, values: dict[str, dict[str, float]]) -> None:
        httpx.post(self.url, json=values, timeout=5).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Pipeline:
    def __init__(self, tmp: Path) -> None:
        self.paths = Paths(cache=tmp / "cache", state=tmp / "state")
        self.exporter = Exporter(tmp)
        self.targets = tmp / "targets.json"
        self.targets.write_text(json.dumps([{
            "targets": [f"127.0.0.1:{self.exporter.port}"],
            "labels": {"job": metrics.JOB_WATCHER, "namespace": "production",
                       "pod": "sidecar-watcher-0"},
        }]))
        self.exporter.set(HEALTHY)
        self.profile = profiles.get("drill")
        self.endpoints = pipeline.up(CLUSTER, "drill", targets_file=self.targets, paths=self.paths)
        assert self.endpoints.sink_url
        self.sink = SinkClient(self.endpoints.sink_url)
        self.sink.publish_baseline(BASELINE)
        self.prom = PrometheusAPI(self.endpoints.prometheus_url)
        self.rules = rules.load(Path(self.endpoints.rules_dir or "") / rules.RENDERED_FILE)
        self.table = thresholds.load()
        # Settled: the sidecar target is scraped, the baseline is in, a full rate window passed.
        assert self.prom.wait_for("pfdrill:sidecars_up == 1", 30) == 1
        assert self.prom.wait_for('pfdrill:baseline:reject_rate == 2', 30) == 2
        time.sleep(self.profile.rate_window_s + 1)

    def close(self) -> None:
        pipeline.down(CLUSTER, self.paths)
        self.prom.close()
        self.exporter.stop()


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    p = Pipeline(tmp_path_factory.mktemp("obs"))
    try:
        yield p
    finally:
        p.close()


def test_steady_state_raises_no_alert(drill: Pipeline) -> None:
    start = time.time()
    time.sleep(STEADY_S)
    # Every evaluation of the window, pending or firing: raw ALERTS samples.
    seen = drill.prom.raw("ALERTS", time.time() - start)
    assert [s.labels for s in seen] == []
    assert drill.sink.records(Channel.ALERTMANAGER, since=start) == []
    signals = measure.measure(drill.prom)
    verdict = classifier.classify(signals, BASELINE, drill.table)
    assert verdict.severity is Severity.NONE, [r.describe() for r in verdict.reasons]
    assert signals.sidecars_up == 1 and signals.reject_rate == pytest.approx(2.0, rel=0.05)


def test_enforcement_disabled_is_notified_within_the_sla(drill: Pipeline) -> None:
    injected_at = time.time()
    drill.exporter.set({"gauges": {'enforcement_mode{mode="enforce"}': 0.0,
                                   'enforcement_mode{mode="disabled"}': 1.0}})
    try:
        seen = timing.wait(injected_at, prometheus=drill.prom, sink=drill.sink, rules=drill.rules,
                           profile=drill.profile, alerts=["PolicyEnforcementDisabled"],
                           timeout_s=DETECTION_SLA_S)
        verdict = classifier.classify(measure.measure(drill.prom), BASELINE, drill.table)
    finally:
        drill.exporter.set(HEALTHY)
    found = seen.get("PolicyEnforcementDisabled")
    assert found is not None and found.notified_at is not None, seen.to_dict()
    assert found.severity is Severity.SEV1
    assert found.notification_delay_s is not None and found.notification_delay_s <= DETECTION_SLA_S
    assert found.firing_at is not None and injected_at <= found.firing_at <= found.notified_at
    print(f"\nPolicyEnforcementDisabled: fired after {found.firing_delay_s:.2f}s "
          f"(bound {found.bound.alert_s:g}s), notified after {found.notification_delay_s:.2f}s "
          f"(bound {found.bound.notification_s:g}s)")
    hooks = [n for n in drill.sink.records(Channel.ALERTMANAGER, since=injected_at)
             if any(a.alertname == "PolicyEnforcementDisabled" for a in n.alerts())]
    assert hooks[0].path == "/alertmanager/sev-1"
    assert verdict.severity is Severity.SEV1
    assert "enforcement_mode_disabled" in {r.row for r in verdict.reasons}


def test_live_rules_reload_and_a_bad_edit_is_refused(drill: Pipeline) -> None:
    live = Path(drill.endpoints.rules_dir or "") / rules.RENDERED_FILE
    original = live.read_text()
    try:
        live.write_text(original.replace("expr: pfdrill:ni_reject_rate > 1", "expr: pfdrill:ni_reject_rate > 0.5"))
        stack.reload(drill.endpoints, drill.paths)
        exprs = _alert_exprs(drill)
        assert exprs["NiMonitorRejects"] == "pfdrill:ni_reject_rate > 0.5"
        live.write_text(original.replace("expr: pfdrill:ni_reject_rate > 1", "expr: pfdrill:ni_reject_rate >"))
        with pytest.raises(InvalidInput) as bad:
            stack.reload(drill.endpoints, drill.paths)
        assert str(live) in str(bad.value) and "\n" not in str(bad.value)
        assert _alert_exprs(drill)["NiMonitorRejects"] == "pfdrill:ni_reject_rate > 0.5"
    finally:
        live.write_text(original)
        stack.reload(drill.endpoints, drill.paths)


def _alert_exprs(drill: Pipeline) -> dict[str, str]:
    body = httpx.get(f"{drill.endpoints.prometheus_url}/api/v1/rules", timeout=5).json()
    return {r["name"]: r["query"] for g in body["data"]["groups"] for r in g["rules"]
            if r["type"] == "alerting"}


def test_up_is_idempotent_and_down_leaves_nothing_behind(drill: Pipeline) -> None:
    again = pipeline.up(CLUSTER, "drill", targets_file=drill.targets, paths=drill.paths)
    assert again == drill.endpoints
    status = pipeline.status(CLUSTER, drill.paths)
    pids = [c.pid for c in status.components]
    assert status.up and all(pids)
    bound = [int(url.rsplit(":", 1)[1]) for url in (drill.endpoints.prometheus_url,
             drill.endpoints.alertmanager_url or "", drill.endpoints.sink_url or "")]
    assert sorted(pipeline.down(CLUSTER, drill.paths)) == ["alertmanager", "prometheus", "sink"]
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == [], [
        Path(f"/proc/{pid}/stat").read_text()[:80] for pid in pids if Path(f"/proc/{pid}").exists()]
    assert not any(ports.port_open("127.0.0.1", port) for port in bound)
    assert pipeline.status(CLUSTER, drill.paths).components == tuple(
        stack.ComponentStatus(name, None, None, False)
        for name in ("prometheus", "alertmanager", "sink"))


def test_an_alert_true_from_the_start_is_notified_within_the_sla(tmp_path: Path) -> None:
    # No sidecar at all: SidecarWatcherAllDown holds from the first evaluation, before
    # Prometheus' notifier may have found Alertmanager. Without care that first send is
    # dropped and only repeated a minute later.
    paths = Paths(cache=tmp_path / "cache", state=tmp_path / "state")
    targets = tmp_path / "targets.json"
    targets.write_text("[]")
    started = time.time()
    ep = pipeline.up("itest-empty", "drill", targets_file=targets, paths=paths)
    try:
        assert ep.sink_url
        sink = SinkClient(ep.sink_url)
        deadline = time.monotonic() + DETECTION_SLA_S
        notified: list[str] = []
        while not notified and time.monotonic() < deadline:
            notified = [a.alertname for n in sink.records(Channel.ALERTMANAGER, since=started)
                        for a in n.alerts() if a.status == "firing"]
            time.sleep(0.2)
        assert notified == ["SidecarWatcherAllDown"]
    finally:
        pipeline.down("itest-empty", paths)
