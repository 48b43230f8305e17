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


def _marker(x: float, top: float, bottom: float, cls: str, label: str, row: int = 0) -> str:
    """A vertical line with its label; ``row`` moves the label down a line (markers that meet)."""
    return (f'<line class="{cls}" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}"/>'
            f'<text class="mk {cls}" x="{x + 3:.1f}" y="{top + 10 + 12 * row:.1f}">{_e(label)}</text>')


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


class Frame:
    """A plot area mapping values to pixels, with its value grid and time axis drawn once."""

    def __init__(self, t0: float, t1: float, v0: float, v1: float, height: int = 200) -> None:
        self.t0, self.t1 = t0, (t1 if t1 - t0 >= 1e-9 else t0 + 1)
        self.v0, self.v1 = v0, (v1 if v1 - v0 >= 1e-12 else v0 + 1)
        self.height, self.top, self.bottom = height, 20, height - 28

    def x(self, t: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (t - self.t0) / (self.t1 - self.t0)

    def y(self, v: float) -> float:
        return self.bottom - (self.bottom - self.top) * (v - self.v0) / (self.v1 - self.v0)

    def open(self, label: str, x_unit: str = "s") -> list[str]:
        """The ``<svg>`` start, horizontal grid lines with values, ticks along x."""
        parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {self.height}" width="{WIDTH}" '
                 f'height="{self.height}" role="img" aria-label="{_e(label)}">']
        for v in _ticks(self.v0, self.v1, 4):
            parts.append(f'<line class="grid" x1="{LEFT}" y1="{self.y(v):.1f}" x2="{WIDTH - RIGHT}" '
                         f'y2="{self.y(v):.1f}"/><text class="ax" x="{LEFT - 6}" '
                         f'y="{self.y(v) + 4:.1f}" text-anchor="end">{v:.3g}</text>')
        for t in _ticks(self.t0, self.t1):
            parts.append(f'<text class="ax" x="{self.x(t):.1f}" y="{self.height - 8}" '
                         f'text-anchor="middle">{t:g}{_e(x_unit)}</text>')
        return parts

    def curve(self, points: Sequence[tuple[float, float]], cls: str = "curve") -> str:
        path = " ".join(f"{self.x(t):.1f},{self.y(v):.1f}" for t, v in points if math.isfinite(v))
        return f'<polyline class="{cls}" points="{path}"/>' if path else ""

    def marker(self, t: float, cls: str, label: str, row: int = 0) -> str:
        return _marker(self.x(t), self.top, self.bottom, cls, label, row)

    def close(self, title: str) -> str:
        return f'<text class="lbl" x="{LEFT}" y="12">{_e(title)}</text></svg>'


def series(r: DrillResult, s: MetricSeries) -> str:
    """One metric's curve, with the injection and every alert moment marked."""
    pts = list(s.points)
    alerts = [(a.firing_at, "fire", f"{a.alert} firing") for a in r.evidence.alerts
              if a.firing_at is not None]
    alerts += [(a.notified_at, "ntf", f"{a.alert} notified") for a in r.evidence.alerts
               if a.notified_at is not None]
    times = [p.at for p in pts] + [t for t, _, _ in _moments(r)] + [t for t, _, _ in alerts]
    if not times:
        return '<p class="muted">no data</p>'
    values = [p.value for p in pts if math.isfinite(p.value)] or [0.0]
    frame = Frame(min(times), max(times), min(0.0, min(values)), max(values))
    parts = frame.open(s.name)
    parts.append(frame.curve([(p.at, p.value) for p in pts]))
    for t, cls, label in _moments(r) + alerts:
        parts.append(frame.marker(t, cls, label))
    parts.append(frame.close(s.name))
    return "".join(parts)


def scatter(title: str, x_unit: str, curve: Sequence[tuple[float, float]],
            hits: Sequence[tuple[float, float]], misses: Sequence[float], ceiling: float,
            markers: Sequence[tuple[float, str, str]] = ()) -> str:
    """Measured points (``hits``) over a theoretical curve, ``misses`` drawn on the ``ceiling``
    line (e.g. MTTD against fault size, the bound below, the SLA above)."""
    xs = [x for x, _ in curve] + [x for x, _ in hits] + list(misses) + [m for m, _, _ in markers]
    if not xs:
        return '<p class="muted">no data</p>'
    ys = [y for _, y in curve] + [y for _, y in hits] + [ceiling]
    frame = Frame(min(xs) * 0.95, max(xs) * 1.05, 0.0, max(ys) * 1.08, height=240)
    parts = frame.open(title, x_unit)
    parts.append(frame.curve(curve, "curve bound"))
    parts.append(f'<line class="sla" x1="{LEFT}" y1="{frame.y(ceiling):.1f}" x2="{WIDTH - RIGHT}" '
                 f'y2="{frame.y(ceiling):.1f}"/>')
    for row, (x, cls, label) in enumerate(markers):
        parts.append(frame.marker(x, cls, label, row))
    for x, y in hits:
        parts.append(f'<circle class="hit" cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="4">'
                     f'<title>{x:.4g}{_e(x_unit)}: {y:.1f} s</title></circle>')
    for x in misses:
        cx, cy = frame.x(x), frame.y(ceiling)
        parts.append(f'<path class="miss" d="M{cx - 4:.1f},{cy - 4:.1f}L{cx + 4:.1f},{cy + 4:.1f}'
                     f'M{cx - 4:.1f},{cy + 4:.1f}L{cx + 4:.1f},{cy - 4:.1f}"><title>{x:.4g}'
                     f'{_e(x_unit)}: missed</title></path>')
    parts.append(frame.close(title))
    return "".join(parts)


def all_series(r: DrillResult) -> Sequence[tuple[MetricSeries, str]]:
    return [(s, series(r, s)) for s in r.evidence.series]
