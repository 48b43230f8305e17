"""What the pollers report: alert transitions, cluster changes, new events, notifications."""

from __future__ import annotations

import json

from pfdrill.cluster.fake import FakeCluster
from pfdrill.dashboard import diff
from pfdrill.dashboard.world import ClusterPoller, WorldWatch
from pfdrill.errors import ServiceUnavailable
from pfdrill.model.detection import Channel, SinkRequest
from pfdrill.model.live import Observation, Source


def look(*alerts: tuple[str, str, str]) -> dict[str, tuple[str, str, str]]:
    return {diff.alert_key(n, {"severity": s}): (n, st, s) for n, st, s in alerts}


def test_alerts_go_pending_firing_resolved() -> None:
    a = look(("PolicyAdapterFailingOpen", "pending", "SEV-1"))
    b = look(("PolicyAdapterFailingOpen", "firing", "SEV-1"), ("RejectRateSpikeMedium",
                                                                 "pending", "SEV-3"))
    out = diff.alerts({}, a, 1.0) + diff.alerts(a, b, 2.0) + diff.alerts(b, {}, 3.0)
    assert [(o.kind, o.subject, o.level) for o in out] == [
        ("pending", "PolicyAdapterFailingOpen", "info"),
        ("firing", "PolicyAdapterFailingOpen", "critical"),
        ("pending", "RejectRateSpikeMedium", "info"),
        ("resolved", "PolicyAdapterFailingOpen", "info"),
        ("cleared", "RejectRateSpikeMedium", "info")]
    assert diff.alerts(b, b, 4.0) == []


def test_cluster_changes_after_the_first_look() -> None:
    c = FakeCluster("kwok-test")
    c.add_namespace("production")
    c.add_configmap("production", "policy-config", {"enforcement_mode": "enforce",
                                                    "dfa.json": "x" * 500})
    c.add_deployment("production", "sidecar-watcher", 2)
    poller = ClusterPoller(c, "production")
    assert poller.poll(1.0) == []  # the starting point
    c.patch_configmap("production", "policy-config", {"enforcement_mode": "disabled",
                                                      "dfa.json": "y" * 500})
    c.scale_deployment("production", "sidecar-watcher", 0)
    seen = poller.poll(2.0)
    messages = [o.message for o in seen]
    assert any("enforcement_mode: 'enforce' → 'disabled'" in m for m in messages)
    assert all(len(m) < 400 for m in messages)  # long values are cut
    assert "Deployment sidecar-watcher scaled 2 → 0" in messages
    assert any(o.kind == "event" and "ScalingReplicaSet" in o.message for o in seen)
    assert {o.source for o in seen} == {Source.KUBERNETES}
    assert poller.poll(3.0) == []


def test_notifications_read_as_one_line() -> None:
    body = {"status": "firing", "alerts": [{"status": "firing", "labels": {
        "alertname": "PolicyEnforcementDisabled", "severity": "SEV-1"}}]}
    am = SinkRequest(seq=1, received_at=5.0, method="POST", path="/alertmanager/sink",
                      channel=Channel.ALERTMANAGER, body=json.dumps(body), json=body)
    o = diff.notification(am)
    assert (o.message, o.level) == ("Alertmanager notified: PolicyEnforcementDisabled firing",
                                    "critical")
    hook = SinkRequest(seq=2, received_at=6.0, method="POST", path="/security",
                        channel=Channel.SECURITY,
                        body='{"text":"🚨 Policy enforcement disabled due to SEV-1"}')
    assert diff.notification(hook).message == ("security notified: 🚨 Policy enforcement "
                                               "disabled due to SEV-1")


class Broken:
    source = Source.PROMETHEUS

    def __init__(self) -> None:
        self.calls = 0

    def poll(self, wall: float) -> list[Observation]:
        self.calls += 1
        if self.calls < 3:
            raise ServiceUnavailable("Prometheus at http://127.0.0.1:1 is unreachable")
        return [Observation(wall, self.source, "firing", "X", "X firing")]


def test_a_source_that_fails_is_reported_once_and_tried_again() -> None:
    got: list[Observation] = []
    watch = WorldWatch([Broken()], got.append, clock=lambda: 7.0)
    for _ in range(3):
        watch.poll_once()
    assert [o.kind for o in got] == ["unavailable", "firing"]
