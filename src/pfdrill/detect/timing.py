"""Detection timing: when each alert fired and was notified, relative to an injection.

Firing times come from Prometheus' ``ALERTS{alertstate="firing"}`` series,
read as raw samples (exact evaluation timestamps, not a query_range grid);
notification times from the sink's journal (the receive time of the first
Alertmanager webhook that carries the alert as firing). Alerts that were
already firing before the injection are not detections of it and are left out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Protocol

from pfdrill.model.detection import AlertDetection, Channel, Detection, LowerBound, SinkRequest
from pfdrill.model.severity import Severity
from pfdrill.model.signals import Indicator
from pfdrill.obs.api import PrometheusAPI, parse_time
from pfdrill.obs.profile import AlertTiming
from pfdrill.obs.rules import AlertRule, RuleSet

FIRING = 'ALERTS{alertstate="firing"}'


class NotificationSource(Protocol):
    """The sink, over HTTP (:class:`~pfdrill.sink.client.SinkClient`) or any reader alike."""

    def records(self, channel: Channel | None = None, since: float | None = None) -> list[SinkRequest]: ...


def lower_bound(rule: AlertRule, profile: AlertTiming) -> LowerBound:
    """scrape + evaluation + ``for`` (+ one scrape for a rate) (+ group_wait to notify).

    Rates also need their window to fill far enough to cross the threshold,
    which depends on the size of the fault; that part is not in the bound.
    """
    try:
        rate_based = Indicator.parse(rule.signal).spec.rate_based
    except ValueError:
        rate_based = "rate(" in rule.expr or "increase(" in rule.expr
    return LowerBound(
        scrape_s=profile.scrape_interval_s, evaluation_s=profile.evaluation_interval_s,
        for_s=rule.for_s, rate_s=profile.scrape_interval_s if rate_based else 0.0,
        group_wait_s=profile.group_wait_s,
    )


def _episode_starts(points: Iterable[tuple[float, float]], gap_s: float) -> list[float]:
    """Start times of runs of samples no more than ``gap_s`` apart."""
    starts: list[float] = []
    last: float | None = None
    for ts, _ in points:
        if last is None or ts - last > gap_s:
            starts.append(ts)
        last = ts
    return starts


def firing_times(prometheus: PrometheusAPI, injected_at: float, profile: AlertTiming,
                 now: float | None = None) -> dict[str, float]:
    """First time each alert *started* firing at or after ``injected_at``."""
    now = now if now is not None else time.time()
    gap = 2.5 * profile.evaluation_interval_s  # missing more than two evaluations = a new episode
    lookback = now - injected_at + gap + 1
    out: dict[str, float] = {}
    for series in prometheus.raw(FIRING, lookback, at=now):
        name = series.labels.get("alertname", "")
        for start in _episode_starts(series.points, gap):
            if start >= injected_at:
                out[name] = min(out.get(name, start), start)
                break
    return out


def notification_times(source: NotificationSource, injected_at: float,
                       slack_s: float = 1.0) -> dict[str, float]:
    """First receive time of each alert notified as firing, for alerts that began after injection.

    ``slack_s`` tolerates clock differences between Prometheus and this host
    when comparing an alert's ``startsAt`` with the injection time.
    """
    out: dict[str, float] = {}
    for record in source.records(Channel.ALERTMANAGER, since=injected_at):
        for alert in record.alerts():
            if alert.status != "firing" or alert.alertname in out:
                continue
            started = parse_time(alert.starts_at)
            if started is not None and started < injected_at - slack_s:
                continue  # an older incident, re-notified
            out[alert.alertname] = record.received_at
    return out


def detect(injected_at: float, *, prometheus: PrometheusAPI, sink: NotificationSource,
           rules: RuleSet, profile: AlertTiming, now: float | None = None) -> Detection:
    """Every alert of ``rules`` that fired or was notified since ``injected_at``."""
    now = now if now is not None else time.time()
    fired = firing_times(prometheus, injected_at, profile, now)
    notified = notification_times(sink, injected_at)
    found = []
    for name in sorted(set(fired) | set(notified)):
        rule = rules.alert(name)
        severity = rule.severity if rule else Severity.NONE
        bound = lower_bound(rule, profile) if rule else LowerBound(
            profile.scrape_interval_s, profile.evaluation_interval_s, 0.0, 0.0, profile.group_wait_s)
        found.append(AlertDetection(
            alert=name, severity=severity, runbook_section=rule.runbook_section if rule else "",
            injected_at=injected_at, bound=bound, firing_at=fired.get(name),
            notified_at=notified.get(name),
        ))
    found.sort(key=lambda a: (a.notified_at or a.firing_at or now))
    return Detection(injected_at=injected_at, observed_at=now, alerts=tuple(found))


def wait(injected_at: float, *, prometheus: PrometheusAPI, sink: NotificationSource,
         rules: RuleSet, profile: AlertTiming, alerts: Sequence[str] = (),
         timeout_s: float = 60.0, poll_s: float = 0.25) -> Detection:
    """Poll until one of ``alerts`` (any alert, if empty) has been notified, or the timeout passes.

    Returns every alert seen either way; the caller judges it against its SLA.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        seen = notification_times(sink, injected_at)
        done = any(a in seen for a in alerts) if alerts else bool(seen)
        if done or time.monotonic() >= deadline:
            return detect(injected_at, prometheus=prometheus, sink=sink, rules=rules,
                          profile=profile)
        time.sleep(poll_s)
