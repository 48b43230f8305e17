"""Fold what a drill's phases recorded into its :class:`~pfdrill.model.result.DrillResult`.

The only place that knows how phase records become the result's evidence and
measures: a phase that runs more than once (a Gherkin scenario checks
mitigation one ``Then`` at a time) contributes every time, in order.
"""

from __future__ import annotations

from collections.abc import Iterable

from pfdrill.drill.context import DrillContext
from pfdrill.model.evidence import MetricSeries
from pfdrill.model.phases import (
    Detection,
    Injection,
    Judgement,
    Mitigation,
    Preflight,
    Recovery,
    Restoration,
    Triage,
)
from pfdrill.model.result import DrillEvidence, DrillResult, Measures, Verdict
from pfdrill.model.timeline import PhaseStatus


def _last(values: Iterable[float | None]) -> float | None:
    out = None
    for v in values:
        if v is not None:
            out = v
    return out


def _r3(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def result(c: DrillContext, series: tuple[MetricSeries, ...] = ()) -> DrillResult:
    rec = c.rec
    phases = rec.phases
    failing = next((p for p in phases if p.status in (PhaseStatus.FAILED, PhaseStatus.ERROR)),
                   None)
    if rec.interrupted is not None:
        verdict, reason = Verdict.INTERRUPTED, str(rec.interrupted)
    elif any(p.status is PhaseStatus.ERROR for p in phases):
        verdict, reason = Verdict.ERROR, failing.reason if failing else ""
    elif failing is not None:
        verdict, reason = Verdict.FAILED, failing.reason
    else:
        verdict, reason = Verdict.PASSED, ""
    pre, inj = rec.latest(Preflight), rec.latest(Injection)
    det, tri, judged = rec.latest(Detection), rec.latest(Triage), rec.latest(Judgement)
    mitigations, recoveries = rec.all(Mitigation), rec.all(Recovery)
    restored = rec.latest(Restoration)
    fault = c.hold.fault
    evidence = DrillEvidence(
        steady_before=pre.steady if pre else None, baseline=pre.baseline if pre else (),
        proof=inj.proof if inj else None, alerts=det.alerts if det else (),
        pace=det.pace if det else None,
        classification=tri.classification if tri else None, sections=c.sections,
        mitigation=tuple(ev for m in mitigations for ev in m.checks),
        recovery=tuple(ev for r in recoveries for ev in r.checks),
        steady_after=next((r.steady for r in reversed(recoveries) if r.steady), None),
        criteria=judged.criteria if judged else (),
        notifications=judged.notifications if judged else (), series=series,
        journal=fault.journal() if fault is not None else None,
        incident=judged.incident if judged else None,
        artifacts=judged.artifacts if judged else ())
    measures = Measures(
        mttd=_r3(next((d.mttd for d in rec.all(Detection) if d.mttd is not None), None)),
        time_to_classify=_r3(_last(t.time_to_classify for t in rec.all(Triage))),
        time_to_mitigate=_r3(_last(m.time_to_mitigate for m in mitigations)),
        mttr=_r3(_last(r.mttr for r in recoveries)))
    return DrillResult(
        header=rec.header, run_id=c.run_id, spec=c.spec, verdict=verdict, phases=phases,
        timeline=rec.timeline, evidence=evidence, measures=measures,
        incident_id=c.incident_id, failing_phase=failing.phase if failing else None,
        reason=reason, injected_at=_r3(inj.injected_at if inj else None),
        duration_s=round(rec.elapsed(), 3), restore=restored.record if restored else None)
