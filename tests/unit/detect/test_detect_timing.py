"""Detection timing from Prometheus' ALERTS samples and the sink's records (stubs: pure logic)."""

from __future__ import annotations

import json

import pytest

from pfdrill.detect import timing
from pfdrill.model.detection import (
    AlertDetection,
    Channel,
    Detection,
    LowerBound,
    SinkRequest,
)
from pfdrill.model.severity import Severity
from pfdrill.obs import profile as profiles
from pfdrill.obs import rules
from pfdrill.obs.api import Series

DRILL = profiles.get("drill")
PRODUCTION = profiles.get("production")
RULES = rules.parse(rules.render(rules.alerts_dir() / rules.RULES_FILE, DRILL), "rules.yml")
INJECTED = 1_000.0


class StubPrometheus:
    def __init__(self, series: list[Series]) -> None:
        self.series = series
        self.asked: list[tuple[str, float, float | None]] = []

    def raw(self, selector: str, seconds: float, at: float | None = None) -> list[Series]:
        self.asked.append((selector, seconds, at))
        return self.series


class StubSink:
    def __init__(self, records: list[SinkRequest]) -> None:
        self.records_ = records

    def records(self, channel: Channel | None = None, since: float | None = None) -> list[SinkRequest]:
        return [r for r in self.records_ if (channel is None or r.channel is channel)
                and (since is None or r.received_at >= since)]


def _hook(seq: int, at: float, alerts: list[tuple[str, str, str]]) -> SinkRequest:
    body = {"alerts": [{"status": status, "labels": {"alertname": name}, "startsAt": starts}
                       for name, status, starts in alerts]}
    return SinkRequest(seq=seq, received_at=at, method="POST", path="/alertmanager/sev-1",
                        channel=Channel.ALERTMANAGER, body=json.dumps(body), json=body)


def _points(*times: float) -> tuple[tuple[float, float], ...]:
    return tuple((t, 1.0) for t in times)


def test_bounds_are_scrape_plus_evaluation_plus_for_plus_rate() -> None:
    gauge = RULES.alert("PolicyEnforcementDisabled")
    rate = RULES.alert("NiMonitorRejects")
    assert gauge is not None and rate is not None
    assert timing.lower_bound(gauge, DRILL) == LowerBound(1, 1, 2, 0, 1)
    assert timing.lower_bound(gauge, DRILL).alert_s == 4
    assert timing.lower_bound(gauge, DRILL).notification_s == 5
    assert timing.lower_bound(rate, DRILL).alert_s == 5
    production = rules.parse(rules.render(rules.alerts_dir() / rules.RULES_FILE, PRODUCTION), "r")
    prod_rate = production.alert("NiMonitorRejects")
    assert prod_rate is not None
    assert timing.lower_bound(prod_rate, PRODUCTION).notification_s == 15 + 15 + 60 + 15 + 30


def test_firing_time_is_the_start_of_the_first_episode_after_injection() -> None:
    prom = StubPrometheus([
        # already firing before the injection, continuously: not a detection of it
        Series({"alertname": "BridgeGuaranteeFailure"}, _points(990, 991, 992, 1_003, 1_004)),
        # silent before, fires 3.5 s after the injection
        Series({"alertname": "PolicyEnforcementDisabled"}, _points(1_003.5, 1_004.5, 1_005.5)),
        # fired long before (a different episode) and again after
        Series({"alertname": "SidecarWatcherAllDown"}, _points(900, 901, 1_010, 1_011)),
    ])
    times = timing.firing_times(prom, INJECTED, DRILL, now=1_020)  # type: ignore[arg-type]
    assert times == {"BridgeGuaranteeFailure": 1_003, "PolicyEnforcementDisabled": 1_003.5,
                     "SidecarWatcherAllDown": 1_010}
    (asked,) = prom.asked
    assert asked[0] == 'ALERTS{alertstate="firing"}' and asked[1] >= 20 and asked[2] == 1_020


def test_notification_time_skips_older_incidents_and_resolutions() -> None:
    sink = StubSink([
        _hook(1, 999.0, [("PolicyEnforcementDisabled", "firing", "1970-01-01T00:16:38Z")]),
        _hook(2, 1_004.0, [("BridgeGuaranteeFailure", "firing", "1970-01-01T00:10:00Z"),
                           ("PolicyEnforcementDisabled", "resolved", "1970-01-01T00:16:50Z")]),
        _hook(3, 1_004.8, [("PolicyEnforcementDisabled", "firing", "1970-01-01T00:16:43.5Z")]),
        _hook(4, 1_009.0, [("PolicyEnforcementDisabled", "firing", "1970-01-01T00:16:43.5Z")]),
    ])
    assert timing.notification_times(sink, INJECTED) == {"PolicyEnforcementDisabled": 1_004.8}


def test_detect_joins_both_with_bounds_and_severity() -> None:
    prom = StubPrometheus([Series({"alertname": "PolicyEnforcementDisabled"}, _points(1_003.5)),
                           Series({"alertname": "NotOurs"}, _points(1_006))])
    sink = StubSink([_hook(1, 1_004.8, [("PolicyEnforcementDisabled", "firing", "")])])
    seen = timing.detect(INJECTED, prometheus=prom, sink=sink, rules=RULES,  # type: ignore[arg-type]
                         profile=DRILL, now=1_020)
    first = seen.first()
    assert first is not None and first.alert == "PolicyEnforcementDisabled"
    assert first.severity is Severity.SEV1
    assert first.firing_delay_s == pytest.approx(3.5)
    assert first.notification_delay_s == pytest.approx(4.8)
    assert first.bound.notification_s == 5
    other = seen.get("NotOurs")
    assert other is not None and other.severity is Severity.NONE and not other.detected
    assert Detection.from_dict(seen.to_dict()) == seen
    assert AlertDetection.from_dict(first.to_dict()) == first


def test_wait_returns_once_an_expected_alert_is_notified() -> None:
    sink = StubSink([_hook(1, 1_004.8, [("PolicyEnforcementDisabled", "firing", "")])])
    prom = StubPrometheus([])
    seen = timing.wait(INJECTED, prometheus=prom, sink=sink, rules=RULES, profile=DRILL,  # type: ignore[arg-type]
                       alerts=["SidecarWatcherAllDown", "PolicyEnforcementDisabled"], timeout_s=5)
    assert [a.alert for a in seen.alerts] == ["PolicyEnforcementDisabled"]
    missing = timing.wait(INJECTED, prometheus=prom, sink=sink, rules=RULES, profile=DRILL,  # type: ignore[arg-type]
                          alerts=["SidecarWatcherAllDown"], timeout_s=0.3, poll_s=0.1)
    assert missing.get("SidecarWatcherAllDown") is None
