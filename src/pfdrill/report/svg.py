"""Inline SVG charts for the HTML report: phases against budgets, metrics around the injection.

Hand-written SVG, no plotting library and nothing external, so the report
opens offline and stays small. The SVG carries no ``xmlns`` either: inline
SVG in HTML does not need one, and it keeps every URL out of the file.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from pfdrill.model.evidence import MetricSeries
from pfdrill.model.result import DrillResult
from pfdrill.model.timeline import Phase, PhaseStatus

WIDTH = 860
LEFT = 150
RIGHT = 20
ROW = 24

_STATUS_CLASS = {PhaseStatus.PASSED: "ok", PhaseStatus.FAILED: "bad",
                 PhaseStatus.ERROR: "err", PhaseStatus.SKIPPED: "skip"}


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    span = max(hi - lo, 1e-9)
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _marker(x: float, top: float, bottom: float, cls: str, label: str) -> str:
    return (f'<line class="{cls}" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}"/>'
            f'<text class="mk {cls}" x="{x + 3:.1f}" y="{top + 10:.1f}">{_e(label)}</text>')


def _moments(r: DrillResult) -> list[tuple[float, str, str]]:
    """(seconds since start, css class, label) of the incident's moments."""
    out: list[tuple[float, str, str]] = []
    if r.injected_at is not None:
        out.append((r.injected_at, "inj", "injection"))
        if r.measures.mttd is not None:
            out.append((r.injected_at + r.measures.mttd, "ntf", "notified"))
        if r.measures.mttr is not None:
            out.append((r.injected_at + r.measures.mttr, "rec", "steady"))
    return out


def timeline(r: DrillResult) -> str:
    """Phases as bars (actual duration) over their budgets (outlined)."""
    phases = [p for p in r.phases if p.status is not PhaseStatus.SKIPPED] or list(r.phases)
    inj = r.injected_at or 0.0

    def budget_span(p_phase: Phase, start: float, budget: float) -> tuple[float, float]:
        # detect and classify are judged from the injection, not from their own start
        if p_phase in (Phase.DETECT, Phase.CLASSIFY) and r.injected_at is not None:
            return inj, inj + budget
        return start, start + budget

    spans = [budget_span(p.phase, p.started_at, p.budget_s) for p in phases]
    end = max([r.duration_s, *(p.ended_at for p in phases), *(b for _, b in spans), 1.0])
    height = 30 + ROW * len(r.phases) + 24
    plot_w = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + plot_w * max(0.0, t) / end

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
             f'height="{height}" role="img" aria-label="phases against SLA budgets">']
    for t in _ticks(0, end):
        parts.append(f'<line class="grid" x1="{x(t):.1f}" y1="20" x2="{x(t):.1f}" '
                     f'y2="{height - 24}"/><text class="ax" x="{x(t):.1f}" '
                     f'y="{height - 8}" text-anchor="middle">{t:g}s</text>')
    for i, p in enumerate(r.phases):
        y = 24 + i * ROW
        parts.append(f'<text class="lbl" x="{LEFT - 8}" y="{y + 14}" text-anchor="end">'
                     f'{_e(p.phase.title)}</text>')
        b0, b1 = budget_span(p.phase, p.started_at, p.budget_s)
        parts.append(f'<rect class="budget" x="{x(b0):.1f}" y="{y + 2}" '
                     f'width="{max(1.0, x(b1) - x(b0)):.1f}" height="{ROW - 6}">'
                     f'<title>{_e(p.phase.value)} budget {p.budget_s:g} s</title></rect>')
        w = max(2.0, x(p.ended_at) - x(p.started_at))
        measured = "" if p.measured_s is None else f", judged {p.measured_s:.1f} s"
        parts.append(f'<rect class="bar {_STATUS_CLASS[p.status]}" x="{x(p.started_at):.1f}" '
                     f'y="{y + 5}" width="{w:.1f}" height="{ROW - 12}"><title>'
                     f'{_e(p.phase.value)}: {p.status.value}, {p.duration_s:.1f} s{measured}'
                     f' / budget {p.budget_s:g} s {_e(p.reason)}</title></rect>')
    for t, cls, label in _moments(r):
        parts.append(_marker(x(t), 14, height - 24, cls, label))
    parts.append("</svg>")
    return "".join(parts)


def series(r: DrillResult, s: MetricSeries) -> str:
    """One metric's curve, with the injection and every alert moment marked."""
    height = 200
    top, bottom = 20, height - 28
    pts = list(s.points)
    alerts = [(a.firing_at, "fire", f"{a.alert} firing") for a in r.evidence.alerts
              if a.firing_at is not None]
    alerts += [(a.notified_at, "ntf", f"{a.alert} notified") for a in r.evidence.alerts
               if a.notified_at is not None]
    times = [p.at for p in pts] + [t for t, _, _ in _moments(r)] + [t for t, _, _ in alerts]
    if not times:
        return '<p class="muted">no data</p>'
    t0, t1 = min(times), max(times)
    if t1 - t0 < 1e-9:
        t1 = t0 + 1
    values = [p.value for p in pts if math.isfinite(p.value)] or [0.0]
    v0, v1 = min(0.0, min(values)), max(values)
    if v1 - v0 < 1e-12:
        v1 = v0 + 1
    plot_w = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + plot_w * (t - t0) / (t1 - t0)

    def y(v: float) -> float:
        return bottom - (bottom - top) * (v - v0) / (v1 - v0)

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
             f'height="{height}" role="img" aria-label="{_e(s.name)}">']
    for v in _ticks(v0, v1, 4):
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y(v):.1f}" x2="{WIDTH - RIGHT}" '
                     f'y2="{y(v):.1f}"/><text class="ax" x="{LEFT - 6}" y="{y(v) + 4:.1f}" '
                     f'text-anchor="end">{v:.3g}</text>')
    for t in _ticks(t0, t1):
        parts.append(f'<text class="ax" x="{x(t):.1f}" y="{height - 8}" '
                     f'text-anchor="middle">{t:g}s</text>')
    finite = [p for p in pts if math.isfinite(p.value)]
    if finite:
        path = " ".join(f"{x(p.at):.1f},{y(p.value):.1f}" for p in finite)
        parts.append(f'<polyline class="curve" points="{path}"/>')
    for t, cls, label in _moments(r) + alerts:
        parts.append(_marker(x(t), top, bottom, cls, label))
    parts.append(f'<text class="lbl" x="{LEFT}" y="12">{_e(s.name)}</text></svg>')
    return "".join(parts)


def all_series(r: DrillResult) -> Sequence[tuple[MetricSeries, str]]:
    return [(s, series(r, s)) for s in r.evidence.series]
