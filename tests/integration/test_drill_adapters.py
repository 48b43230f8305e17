"""The drill's adapters, each against the real component it adapts (real HTTP, real servers).

Prometheus, Alertmanager and the notification sink are the real processes
(``pfdrill.detect.pipeline``); the runbook adapter runs the real executor in
its sandbox. Only the cluster is the in-package fake where an adapter needs a
client but the test is not about the cluster.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pfdrill.cluster.fake import FakeCluster
from pfdrill.detect import pipeline
from pfdrill.drill.adapters import notifications, prometheus, runbook, steady
from pfdrill.model.detection import Channel
from pfdrill.model.signals import Baseline
from pfdrill.obs import stack as obs_stack
from pfdrill.obs.api import PrometheusAPI
from pfdrill.runbook.inputs import Environment
from pfdrill.runbook.runner import Runner
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths
from pfdrill.sink.client import SinkClient

pytestmark = [pytest.mark.servers, pytest.mark.slow]

CLUSTER = "itest-adapters"
SERIOUS = {"PolicyEnforcementDisabled", "SidecarWatcherAllDown", "PolicyAdapterFailingOpen",
           "HighAssuranceViolations", "BridgeGuaranteeFailure", "DfaIntegrityFailure",
           "CertificateVerificationFailures", "PerformanceDegradationHigh", "RejectRateSpikeHigh",
           "WitnessValidationFailures", "NiMonitorRejects"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[obs_stack.Endpoints,
                                                                          Paths]]:
    root = tmp_path_factory.mktemp("adapters")
    paths = Paths(cache=root / "cache", state=root / "state")
    targets = root / "targets.json"
    targets.write_text("[]")
    ep = pipeline.up(CLUSTER, "drill", targets_file=targets, paths=paths)
    try:
        yield ep, paths
    finally:
        pipeline.down(CLUSTER, paths)


def _webhook(url: str, alert: str) -> None:
    body = {"version": "4", "status": "firing", "receiver": "SEV-1",
            "alerts": [{"status": "firing", "labels": {"alertname": alert, "severity": "SEV-1"},
                        "annotations": {"summary": "test"}, "startsAt": "2026-12-03T00:00:00Z"}]}
    httpx.post(f"{url}/alertmanager/SEV-1", json=body, timeout=5).raise_for_status()


def test_sink_notifications_and_baselines(servers: tuple[obs_stack.Endpoints, Paths]) -> None:
    ep, _ = servers
    assert ep.sink_url
    sink = SinkClient(ep.sink_url)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    _webhook(ep.sink_url, "PolicyEnforcementDisabled")
    got = notifications.SinkNotifications(sink).notifications(since)
    assert [(n.channel, n.alerts) for n in got][-1] == (Channel.ALERTMANAGER,
                                                         ("PolicyEnforcementDisabled",))
    keeper = notifications.SinkBaselineKeeper(sink)
    saved = keeper.save()
    sink.publish_baseline(Baseline(latency_mean_seconds=0.004, reject_rate=1.5,
                                   measured_at=time.time()))
    assert sink.baselines()
    assert keeper.restore(saved)  # the drill's baseline is withdrawn again
    assert keeper.save() == saved and keeper.restore(saved) == []


def test_prometheus_series_rules_and_live_rule_files(
        servers: tuple[obs_stack.Endpoints, Paths]) -> None:
    ep, paths = servers
    prom = PrometheusAPI(ep.prometheus_url)
    try:
        end = dt.datetime.now(dt.UTC)
        points = prometheus.PromMetrics(prom).series("vector(3)", end - dt.timedelta(seconds=20),
                                                    end, 5.0)
        assert len(points) >= 4 and {v for _, v in points} == {3.0}
        assert [t for t, _ in points] == sorted(t for t, _ in points)
        rules = prometheus.PromRules(prom)
        before = rules.loaded_rules()
        assert "PolicyEnforcementDisabled" in before
        assert ep.rules_dir
        keeper = prometheus.LiveRulesKeeper(Path(ep.rules_dir),
                                            lambda: obs_stack.reload(ep, paths))
        saved = keeper.save()
        (Path(ep.rules_dir) / "extra.yml").write_text(
            "groups:\n- name: extra\n  rules:\n  - alert: AddedByARunbook\n    expr: vector(0)\n")
        obs_stack.reload(ep, paths)
        assert "AddedByARunbook" in rules.loaded_rules()
        assert keeper.restore(saved) == ["alert rules restored and Prometheus reloaded"]
        assert rules.loaded_rules() == before
    finally:
        prom.close()


def test_classifier_publishes_and_withdraws_its_baseline(
        servers: tuple[obs_stack.Endpoints, Paths]) -> None:
    ep, _ = servers
    assert ep.sink_url
    prom, sink = PrometheusAPI(ep.prometheus_url), SinkClient(ep.sink_url)
    try:
        cls = prometheus.PromClassifier(prom, sink)
        cls.withdraw_baseline()
        assert sink.baselines() == {}
        published = cls.baseline()  # nothing is scraped: whatever Prometheus has, published
        assert {s.name for s in published} == set(sink.baselines())
        cls.withdraw_baseline()
        assert sink.baselines() == {}
    finally:
        prom.close()


def test_steady_state_reads_the_cluster_and_prometheus(
        servers: tuple[obs_stack.Endpoints, Paths]) -> None:
    ep, _ = servers
    cluster = FakeCluster("kwok-pfdrill")
    cluster.add_namespace("production", {})
    cluster.add_configmap("production", "policy-config", {"enforcement_mode": "shadow"})
    cluster.add_deployment("production", "sidecar-watcher", 2, {"app": "sidecar-watcher"})
    prom = PrometheusAPI(ep.prometheus_url)
    try:
        samples = {s.name: s for s in steady.FabricSteadyState(cluster, "production",
                                                               prom).check()}
    finally:
        prom.close()
    assert not samples["enforcement_mode"].ok and samples["enforcement_mode"].observed == "shadow"
    assert samples["policy-adapter ready"].observed == "Deployment missing"
    assert samples["pfdrill:bridge_guarantee_ok"].observed == "no data"  # nothing scraped
    # With nothing scraped, SidecarWatcherAllDown fires once its `for` has passed: the probe
    # names exactly the SEV-1/2 alerts Prometheus has firing, and holds only with none.
    firing = samples["SEV-1/2 alerts firing"]
    assert firing.ok == (firing.observed == "none")
    assert firing.observed == "none" or set(firing.observed.split(", ")) <= SERIOUS


def test_sandbox_runbook_runs_sections_and_lists_their_files(tmp_path: Path) -> None:
    book = tmp_path / "rb.md"
    book.write_text("# Runbook\n\n## Part\n\n### Notes\n\n```bash\necho drill notes > notes.md\n"
                    "cat notes.md\n```\n", encoding="utf-8")
    cluster = FakeCluster("kwok-pfdrill")
    cluster.add_namespace("production", {"pfdrill.dev/drills": "enabled"})
    env = Environment(kubeconfig=str(tmp_path / "kubeconfig"), context="kwok-pfdrill",
                      namespace="production", sink_url="http://127.0.0.1:9/",
                      prometheus_url="http://127.0.0.1:9/", alertmanager_url="", rules_file="",
                      kubectl="", runtime_dir="")
    sandbox = runbook.SandboxRunbook(Runner(env, cluster, Config()))
    try:
        run = sandbox.run_section(str(book), "Part / Notes", {"INCIDENT_ID": "DRILL-t-1"})
        assert run.ok, run.reason
        assert [c.command for c in run.commands] == ["echo drill notes > notes.md",
                                                     "cat notes.md"]
        arts = {a.name: a for a in runbook.SandboxArtifacts(sandbox).artifacts()}
        assert "notes.md" in arts and arts["notes.md"].size == len("drill notes\n")
        assert runbook.SandboxArtifacts(sandbox).read_text(arts["notes.md"]) == "drill notes\n"
        # the sandbox declares the drill's incident, so a section run alone finds it
        incident = runbook.SandboxIncidents(sandbox).incident("DRILL-t-1")
        assert incident is not None and incident.status == "open"
        assert runbook.SandboxIncidents(sandbox).incident("DRILL-other") is None
    finally:
        sandbox.close()
