"""Detection and classification, timed from the injection; metric series for the charts."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from pfdrill.drill.ports import AlertSighting
from pfdrill.drill.session import DrillSession, Outcome
from pfdrill.model.evidence import AlertEvidence, MetricSeries, SeriesPoint
from pfdrill.model.severity import Severity
from pfdrill.model.timeline import EventKind, TimelineEvent


def detect(s: DrillSession, alerts: Sequence[str], *, within: float) -> Outcome:
    if s.injected_at is None or s.injected_wall is None:
        return Outcome.failed("nothing was injected, so nothing can be detected")
    if not alerts:
        return Outcome.failed("the drill names no expected alert")
    timeout = max(0.0, s.injected_at + within - s.elapsed())
    sightings = s.env.detector.wait_for_notification(alerts, s.injected_wall, timeout)
    s.alerts = tuple(_alert_evidence(s, x, alerts) for x in sightings)
    for a in s.alerts:
        if a.firing_at is not None:
            s.timeline.append(TimelineEvent(at=a.firing_at, kind=EventKind.ALERT_FIRING,
                                               message=f"{a.alert} firing"))
        if a.notified_at is not None:
            s.timeline.append(TimelineEvent(at=a.notified_at, kind=EventKind.NOTIFICATION,
                                               message=f"{a.alert} notified"))
    s.timeline.sort(key=lambda e: e.at)
    notified = sorted((a.notified_at, a.alert) for a in s.alerts
                      if a.expected and a.notified_at is not None)
    if not notified:
        fired = [a.alert for a in s.alerts if a.expected and a.firing_at is not None]
        other = [a.alert for a in s.alerts if not a.expected]
        why = f"no notification for {', '.join(alerts)} within {within:g} s of injection"
        if fired:
            why += f" (firing in Prometheus but not notified: {', '.join(fired)})"
        if other:
            why += f"; other alerts seen: {', '.join(other)}"
        return Outcome.failed(why, measured=s.since_injection())
    first_at, first = notified[0]
    s.mttd = first_at - s.injected_at
    return Outcome.passed(f"{first} notified {s.mttd:.1f} s after injection",
                          measured=s.mttd)


def _alert_evidence(s: DrillSession, seen: AlertSighting,
                    expected: Sequence[str]) -> AlertEvidence:
    return AlertEvidence(
        alert=seen.alert, expected=seen.alert in expected,
        firing_at=None if seen.firing is None else round(s.offset(seen.firing), 3),
        notified_at=None if seen.notified is None else round(s.offset(seen.notified), 3),
        severity_label=seen.severity_label, receiver=seen.receiver, bound_s=seen.bound_s)


def classify(s: DrillSession, expected: Severity, *, within: float) -> Outcome:
    if s.injected_at is None:
        return Outcome.failed("nothing was injected, so nothing can be classified")
    timeout = max(0.0, s.injected_at + within - s.elapsed())
    got, matched = s.poll(lambda: s.env.classifier.classify(s.baseline),
                              lambda c: c.severity is expected, timeout)
    s.classification = got
    reasons = "; ".join(got.reasons) or "no reasons given"
    s.note(EventKind.CLASSIFIED, f"classified {got.severity.value}: {reasons}")
    since = s.since_injection()
    if not matched:
        return Outcome.failed(f"classified as {got.severity.value} ({reasons}), "
                              f"expected {expected.value}", measured=since)
    s.time_to_classify = since
    return Outcome.passed(f"{got.severity.value}: {reasons}", measured=since)


def collect_series(s: DrillSession, lead_s: float = 60.0) -> None:
    if not s.spec.metrics or s.injected_wall is None:
        return
    start = s.injected_wall - dt.timedelta(seconds=lead_s)
    end = s.clock.now()
    step = max(1.0, (end - start).total_seconds() / 240)
    out = []
    for m in s.spec.metrics:
        pts = s.read(f"metric {m.name}", functools.partial(
            s.env.metrics.series, m.query, start, end, step))
        if pts is None:
            continue
        out.append(MetricSeries(name=m.name, query=m.query, points=tuple(
            SeriesPoint(at=round(s.offset(w), 3), value=v) for w, v in pts)))
    s.series = tuple(out)
