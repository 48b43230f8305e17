"""Observability in the cluster, as kind or a staging cluster runs it (issue 15, part 3).

A second kwok cluster gets the fabric with overlay ``kwok-incluster``: Prometheus and
Alertmanager are pods from the same components the kind overlay deploys, run by the
process runtime (Prometheus is the toolchain's, built with Kubernetes service
discovery). Prometheus finds the fabric's pods and the Alertmanager through the API
server as its ServiceAccount, and the Alertmanager notifies a sink of this test's own.
pfdrill then drills that cluster as a team's own (``--provider existing``), reading
detection from the in-cluster servers through ``kubectl port-forward``, as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

import background_build  # type: ignore[import-not-found]
from pfdrill.cluster.client import KubeClient
from pfdrill.proc.ports import free_port
from pfdrill.settings.config import Config
from pfdrill.stack.lifecycle import Stack

pytestmark = [pytest.mark.cluster, pytest.mark.servers, pytest.mark.slow,
              pytest.mark.toolchain_build("prometheus")]

REPO = Path(__file__).resolve().parents[2]
OVERLAY = REPO / "deploy" / "overlays" / "kwok-incluster"
NS = "production"
PFDRILL = str(Path(sys.executable).parent / "pfdrill")
DRILL = "adapter-fail-open"  # the weekly suite's first drill; its runbook edits the alert rules


class InCluster:
    def __init__(self, drill_cluster: Any, tmp: Path) -> None:
        self.name = f"{drill_cluster.name}-ic"
        self.tmp = tmp
        self.kubectl = str(drill_cluster.kubectl)
        self.env = dict(drill_cluster.env)
        self.stack = Stack(name=self.name, config=Config(
            allowed_contexts=(f"kwok-{self.name}",), namespace=NS))
        self.forwards: list[subprocess.Popen[bytes]] = []
        self.sink_dir = tmp / "sink"
        self.sink_url = self.prometheus = self.alertmanager = ""
        self.config = tmp / "pfdrill.yaml"
        info = self.stack.up(progress=print)
        self.kubeconfig, self.context = info.kubeconfig, info.context
        self.env["KUBECONFIG"] = self.kubeconfig
        self.client = KubeClient(self.kubeconfig, self.context)

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False, cwd=self.tmp)

    def ok(self, *args: str, timeout: float = 600) -> str:
        done = self.run(*args, timeout=timeout)
        assert done.returncode == 0, f"{' '.join(args[:4])}: {done.stderr.strip()[-2000:]}"
        return done.stdout

    def forward(self, service: str, port: int) -> str:
        local = free_port()
        with (self.tmp / f"port-forward-{service}.log").open("w") as log:
            proc = subprocess.Popen([self.kubectl, "--context", self.context, "-n", NS,
                                     "port-forward", f"svc/{service}", f"{local}:{port}"],
                                    env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.forwards.append(proc)
        url = f"http://127.0.0.1:{local}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"port-forward to svc/{service} not ready in 60 s")

    def close(self) -> None:
        for proc in self.forwards:
            proc.terminate()
            proc.wait(timeout=10)
        self.run(PFDRILL, "sink", "stop", "--dir", str(self.sink_dir), timeout=60)
        self.stack.down(progress=print)


@pytest.fixture(scope="module")
def ic(drill_cluster: Any, tmp_path_factory: pytest.TempPathFactory,
       request: pytest.FixtureRequest) -> Iterator[InCluster]:
    background_build.wait(request.config, "prometheus")  # the pods' Prometheus
    rig = InCluster(drill_cluster, tmp_path_factory.mktemp("incluster"))
    try:
        started = json.loads(rig.ok(PFDRILL, "sink", "serve", "--dir", str(rig.sink_dir),
                                    "--detach", "--json"))
        rig.sink_url = str(started["url"])
        kubectl = [rig.kubectl, "--context", rig.context]
        rig.ok(*kubectl, "create", "namespace", NS)
        rig.ok(*kubectl, "label", "namespace", NS, "pfdrill.dev/drills=enabled")
        am = rig.tmp / "alertmanager.yml"
        am.write_text(rig.ok(PFDRILL, "obs", "alertmanager-config", "--sink-url", rig.sink_url))
        rig.ok(*kubectl, "-n", NS, "create", "configmap", "alertmanager-config",
               f"--from-file={am}")
        config = rig.config
        config.write_text(yaml.safe_dump({"allowed_contexts": [rig.context], "namespace": NS}))
        rig.ok(PFDRILL, "fabric", "deploy", "--provider", "existing", "--kubeconfig",
               rig.kubeconfig, "--context", rig.context, "--config", str(config),
               "--manifests", str(OVERLAY))
        rig.prometheus = rig.forward("prometheus", 9090)
        rig.alertmanager = rig.forward("alertmanager", 9093)
        config.write_text(yaml.safe_dump({
            "allowed_contexts": [rig.context], "namespace": NS,
            "prometheus_url": rig.prometheus, "alertmanager_url": rig.alertmanager,
            "sink_url": rig.sink_url, "rules_configmap": "pfdrill-alert-rules"}))
        yield rig
    finally:
        rig.close()


def _prom(ic: InCluster, path: str) -> Any:
    got = httpx.get(f"{ic.prometheus}{path}", timeout=10)
    got.raise_for_status()
    return got.json()["data"]


def _wait(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")


def _pod_ips(ic: InCluster) -> dict[str, str]:
    return {p["metadata"]["name"]: p["status"]["podIP"]
            for p in ic.client.list_objects("v1", "Pod", NS)}


def test_prometheus_finds_the_fabric_and_alertmanager_through_the_api_server(ic: InCluster) -> None:
    ips = _pod_ips(ic)

    def targets() -> list[dict[str, Any]] | None:
        active = _prom(ic, "/api/v1/targets")["activeTargets"]
        up = [t for t in active if t["health"] == "up"]
        return active if len(up) == len(ips) == len(active) else None

    active = _wait("every pod scraped", targets)
    # Discovered from the API server: pod IPs (the runtime's pod network carries them), the
    # pods' own names, the job from the app label, none of it written in the config.
    assert {t["labels"]["pod"]: t["scrapeUrl"].split("/")[2].split(":")[0] for t in active} == ips
    assert {t["labels"]["job"] for t in active} == {
        "policy-adapter", "sidecar-watcher", "prometheus", "alertmanager"}
    managers = _wait("the Alertmanager found", lambda: _prom(ic, "/api/v1/alertmanagers")[
        "activeAlertmanagers"])
    am_ip = next(ip for name, ip in ips.items() if name.startswith("alertmanager-"))
    assert [m["url"] for m in managers] == [f"http://{am_ip}:9093/api/v2/alerts"]
    committed = yaml.safe_load((REPO / "deploy" / "alerts" / "drill" / "pfdrill-alerts.yml")
                               .read_text())
    loaded = _prom(ic, "/api/v1/rules")["groups"]
    assert sum(len(g["rules"]) for g in loaded) == sum(len(g["rules"]) for g in committed["groups"])


def test_prometheus_reads_the_api_as_its_serviceaccount_within_its_role(ic: InCluster) -> None:
    log = ic.ok(ic.kubectl, "--context", ic.context, "-n", NS, "logs", "deploy/prometheus")
    assert "Using pod service account via in-cluster config" in log
    sa = f"--as=system:serviceaccount:{NS}:prometheus"
    can = [ic.kubectl, "--context", ic.context, "auth", "can-i", sa]
    assert ic.run(*can, "list", "pods", "-n", NS).stdout.strip() == "yes"
    assert ic.run(*can, "list", "pods", "-n", "kube-system").stdout.strip() == "no"
    assert ic.run(*can, "get", "secrets", "-n", NS).stdout.strip() == "no"


def test_a_weekly_drill_passes_with_detection_in_the_cluster(ic: InCluster) -> None:
    rules_before = ic.client.get_configmap(NS, "pfdrill-alert-rules")
    reports = ic.tmp / "reports"
    done = ic.run(PFDRILL, "drill", "run", str(REPO / "drills" / "weekly.yaml"), "--only", DRILL,
                  "--provider", "existing", "--kubeconfig", ic.kubeconfig, "--context",
                  ic.context, "--config", str(ic.config), "--reports", str(reports), "--json",
                  timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (report,) = [p for p in reports.iterdir() if p.is_dir()]
    summary = (report / "summary.md").read_text()
    assert f"Detection: configured Prometheus {ic.prometheus} and Alertmanager " \
           f"{ic.alertmanager} (rules ConfigMap pfdrill-alert-rules)" in summary
    evidence = json.loads((report / "evidence.json").read_text())
    (result,) = evidence["suite"]["results"]
    assert result["verdict"] == "passed" and result["header"]["provider"] == "existing"
    assert result["measures"]["mttd"] is not None
    # The page came from the in-cluster Alertmanager: it is the only one posting to this sink.
    journal = [json.loads(line) for line in (ic.sink_dir / "journal.jsonl").read_text().splitlines()]
    assert any("PolicyAdapterFailingOpen" in json.dumps(e) for e in journal)
    # The runbook's `pfctl monitoring update` edited the rules ConfigMap, the in-cluster
    # Prometheus ran the new rule, and the drill put the ConfigMap back.
    criteria = json.dumps(result["evidence"])
    assert "new rule(s) loaded in Prometheus: PolicyEnforcementFailureFromIncident" in criteria
    assert ic.client.get_configmap(NS, "pfdrill-alert-rules") == rules_before
    loaded = {r["name"] for g in _prom(ic, "/api/v1/rules")["groups"] for r in g["rules"]}
    assert "PolicyEnforcementFailureFromIncident" not in loaded
