"""Issue 4's acceptance on the reference fabric: kwok cluster, process runtime, baseline traffic.

Two minutes of steady state raise no alert; setting ``enforcement_mode`` to
``disabled`` fires the SEV-1 alert and the sink receives Alertmanager's
notification within 30 s in the drill profile. The measured times are printed
next to the theoretical bounds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pfdrill.classify import classifier, measure, thresholds
from pfdrill.detect import pipeline, timing
from pfdrill.fabric import deploy
from pfdrill.fabric.authority import Authority
from pfdrill.load import runner
from pfdrill.load.plan import LoadPlan
from pfdrill.model.severity import Severity
from pfdrill.model.signals import Baseline
from pfdrill.obs import profile as profiles
from pfdrill.obs import rules
from pfdrill.obs.api import PrometheusAPI
from pfdrill.settings import Config, Paths
from pfdrill.sink.client import SinkClient

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

STEADY_S = float(os.environ.get("PFDRILL_STEADY_S", "120"))
DETECTION_SLA_S = 30.0
NS = "production"
OBS = "pfdrill-test-detect"


class Rig:
    def __init__(self, cluster: Any, tmp: Path) -> None:
        self.cluster = cluster
        self.paths = Paths(cache=tmp / "cache", state=tmp / "state")
        self.config = Config()
        status = deploy.deploy(cluster.client, config=self.config, paths=self.paths, timeout_s=300)
        assert status.ready
        address = cluster.info.service_address(NS, "sidecar-watcher")
        assert address, "no local proxy for the sidecar-watcher Service"
        self.load = runner.start(LoadPlan.baseline(f"http://{address}", rate=20),
                                 Authority.for_context(cluster.context, self.paths), run_dir=tmp / "load")
        self.endpoints = pipeline.up(OBS, "drill", targets_file=cluster.info.targets_file, paths=self.paths)
        assert self.endpoints.sink_url and self.endpoints.rules_dir
        self.prom = PrometheusAPI(self.endpoints.prometheus_url)
        self.sink = SinkClient(self.endpoints.sink_url)
        self.profile = profiles.get("drill")
        self.rules = rules.load(Path(self.endpoints.rules_dir) / rules.RENDERED_FILE)
        assert self.prom.wait_for("pfdrill:sidecars_up >= 2", 60) == 2
        # A window of traffic first: a baseline taken as load starts is biased low.
        time.sleep(2 * self.profile.rate_window_s)
        self.baseline: Baseline = measure.measure_baseline(self.prom, 60)
        assert self.baseline.latency_mean_seconds and self.baseline.reject_rate is not None
        self.sink.publish_baseline(self.baseline)
        assert self.prom.wait_for("pfdrill:baseline:latency_mean_seconds", 10) is not None

    def close(self) -> None:
        try:
            self.load.stop()
            pipeline.down(OBS, self.paths)
            self.prom.close()
        finally:
            deploy.undeploy(self.cluster.client, config=self.config)


@pytest.fixture(scope="module")
def rig(drill_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(drill_cluster, tmp_path_factory.mktemp("detect"))
    try:
        yield r
    finally:
        r.close()


def test_two_minutes_of_steady_state_raise_no_alert(rig: Rig) -> None:
    start = time.time()
    time.sleep(STEADY_S)
    seen = rig.prom.raw("ALERTS", time.time() - start)
    assert sorted({(s.labels["alertname"], s.labels["alertstate"]) for s in seen}) == []
    verdict = classifier.classify(measure.measure(rig.prom), rig.baseline, thresholds.load())
    assert verdict.severity is Severity.NONE, [r.describe() for r in verdict.reasons]


def test_enforcement_disabled_is_notified_within_30s(rig: Rig) -> None:
    injected_at = time.time()
    rig.cluster.client.patch_configmap(NS, "policy-config", {"enforcement_mode": "disabled"})
    try:
        seen = timing.wait(injected_at, prometheus=rig.prom, sink=rig.sink, rules=rig.rules,
                           profile=rig.profile, alerts=["PolicyEnforcementDisabled"],
                           timeout_s=DETECTION_SLA_S)
        verdict = classifier.classify(measure.measure(rig.prom), rig.baseline, thresholds.load())
    finally:
        rig.cluster.client.patch_configmap(NS, "policy-config", {"enforcement_mode": "enforce"})
    found = seen.get("PolicyEnforcementDisabled")
    assert found is not None and found.notification_delay_s is not None, seen.to_dict()
    assert found.notification_delay_s <= DETECTION_SLA_S
    print(f"\nPolicyEnforcementDisabled on the fabric: fired after {found.firing_delay_s:.2f}s "
          f"(bound {found.bound.alert_s:g}s), notified after {found.notification_delay_s:.2f}s "
          f"(bound {found.bound.notification_s:g}s)")
    assert verdict.severity is Severity.SEV1
    assert "enforcement_mode_disabled" in {r.row for r in verdict.reasons}
