"""Detection and classification, timed from the injection; metric series for the charts."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from pfdrill.detect.bound import DetectionBound, OperatingPoint
from pfdrill.drill import pace
from pfdrill.drill.context import DrillContext
from pfdrill.drill.ports import AlertSighting
from pfdrill.errors import PfdrillError
from pfdrill.model.evidence import AlertEvidence, MetricSeries, SeriesPoint
from pfdrill.model.phases import Detection, Outcome, Triage
from pfdrill.model.severity import Severity
from pfdrill.model.timeline import EventKind, Phase


def detect(c: DrillContext, alerts: Sequence[str], *, within: float) -> Detection:
    injected_at = c.injected_at
    if injected_at is None:
        return Detection(Outcome.failed("nothing was injected, so nothing can be detected"))
    if not alerts:
        return Detection(Outcome.failed("the drill names no expected alert"))
    rec = c.rec
    timeout = max(0.0, injected_at + within - rec.elapsed())
    sightings = c.env.detector.wait_for_notification(alerts, rec.wall(injected_at), timeout)
    found = _bounds(c, [x.alert for x in sightings], injected_at)
    seen = tuple(_alert_evidence(c, x, alerts, found.get(x.alert)) for x in sightings)
    for a in seen:
        if a.firing_at is not None:
            rec.event(a.firing_at, EventKind.ALERT_FIRING, f"{a.alert} firing")
        if a.notified_at is not None:
            rec.event(a.notified_at, EventKind.NOTIFICATION, f"{a.alert} notified")
    notified = sorted((a.notified_at, a.alert) for a in seen
                      if a.expected and a.notified_at is not None)
    if not notified:
        fired = [a.alert for a in seen if a.expected and a.firing_at is not None]
        other = [a.alert for a in seen if not a.expected]
        why = f"no notification for {', '.join(alerts)} within {within:g} s of injection"
        if fired:
            why += f" (firing in Prometheus but not notified: {', '.join(fired)})"
        if other:
            why += f"; other alerts seen: {', '.join(other)}"
        return Detection(Outcome.failed(why, measured=c.since_injection()), alerts=seen)
    first_at, first = notified[0]
    mttd = first_at - injected_at
    said = f"{first} notified {mttd:.1f} s after injection"
    judged = pace.judge(seen, mttd, found, c.env.config)
    if judged is not None and judged.slow:
        slow = f"slow detection pipeline: {judged.describe()}"
        rec.note(EventKind.NOTE, slow, Phase.DETECT)
        if c.env.config.slow_detection_fails:
            return Detection(Outcome.failed(f"{said}; {slow}", measured=mttd), alerts=seen,
                             mttd=mttd, pace=judged)
        said += f" (warning: {slow})"
    return Detection(Outcome.passed(said, measured=mttd), alerts=seen, mttd=mttd, pace=judged)


def _bounds(c: DrillContext, alerts: Sequence[str], injected_at: float
            ) -> dict[str, DetectionBound]:
    """Each alert's physical bound for this drill's fault (none if the rules cannot be read)."""
    try:
        p = pace.physics_for(c.env.profile)
    except PfdrillError as exc:
        c.rec.note(EventKind.ERROR, f"no detection bounds: {exc}")
        return {}
    at, baseline = c.rec.wall(injected_at), c.baseline
    point = c.read("operating point", lambda: pace.operating_point(
        c.env.metrics, p, pace.signals_of(p, alerts), at, baseline))
    return pace.bounds(p, alerts, c.spec.fault,
                       point or OperatingPoint(baselines={b.name: b.value for b in baseline}))


def _alert_evidence(c: DrillContext, seen: AlertSighting, expected: Sequence[str],
                    bound: DetectionBound | None) -> AlertEvidence:
    return AlertEvidence(
        alert=seen.alert, expected=seen.alert in expected,
        firing_at=None if seen.firing is None else round(c.rec.offset(seen.firing), 3),
        notified_at=None if seen.notified is None else round(c.rec.offset(seen.notified), 3),
        severity_label=seen.severity_label, receiver=seen.receiver,
        bound_s=round(bound.earliest_s, 3) if bound and bound.reachable else seen.bound_s,
        bound_note=bound.describe() if bound else "")


def classify(c: DrillContext, expected: Severity, *, within: float) -> Triage:
    injected_at = c.injected_at
    if injected_at is None:
        return Triage(Outcome.failed("nothing was injected, so nothing can be classified"))
    timeout = max(0.0, injected_at + within - c.rec.elapsed())
    baseline = c.baseline
    got, matched = c.poll(lambda: c.env.classifier.classify(baseline),
                          lambda x: x.severity is expected, timeout)
    reasons = "; ".join(got.reasons) or "no reasons given"
    c.rec.note(EventKind.CLASSIFIED, f"classified {got.severity.value}: {reasons}")
    since = c.since_injection()
    if not matched:
        return Triage(Outcome.failed(f"classified as {got.severity.value} ({reasons}), "
                                     f"expected {expected.value}", measured=since),
                      classification=got)
    return Triage(Outcome.passed(f"{got.severity.value}: {reasons}", measured=since),
                  classification=got, time_to_classify=since)


def collect_series(c: DrillContext, lead_s: float = 60.0) -> tuple[MetricSeries, ...]:
    """The drill's metric queries around the injection, for the report's charts."""
    injected_at = c.injected_at
    if not c.spec.metrics or injected_at is None:
        return ()
    rec = c.rec
    start = rec.wall(injected_at) - dt.timedelta(seconds=lead_s)
    end = rec.clock.now()
    step = max(1.0, (end - start).total_seconds() / 240)
    out = []
    for m in c.spec.metrics:
        pts = c.read(f"metric {m.name}", functools.partial(
            c.env.metrics.series, m.query, start, end, step))
        if pts is None:
            continue
        out.append(MetricSeries(name=m.name, query=m.query, points=tuple(
            SeriesPoint(at=round(rec.offset(w), 3), value=v) for w, v in pts)))
    return tuple(out)
