"""The physical lower bound of detection: the earliest an alert can be notified for a given fault.

Pure arithmetic, no I/O. An alert ``pfdrill:<signal> OP T`` is notified after
four things happen in order; only the first depends on the fault's size.

**1. The signal crosses T.** A *gauge* steps at the fault and is seen at the
next scrape. A *windowed* signal is built from counter rates over a window W.
Prometheus 2.x takes the samples in ``[t-W, t]``; with scrapes every s there
are ``n = W/s`` or ``W/s + 1`` of them, spanning ``L = (n-1)·s`` — between
``L_min = (floor(W/s)-1)·s`` and ``L_max = floor(W/s)·s``. ``rate()`` takes
``Δ = v_last - v_first`` and extrapolates it to the window's edges: both edges
lie less than ``1.1·s`` from a sample, so it extrapolates all the way
(``Δ·W/L``) and divides by W. (Its other case, extrapolating to where the
counter would be zero, applies only to counters younger than the window.) So

    rate = Δ / L,

the average slope between the first and last sample in the window. If the
fault steps a counter's slope from ``n0`` to ``n1`` and the newest sample is
``x·L`` after the step (``0 ≤ x ≤ 1``), the rate is ``n0·(1-x) + n1·x``. A
ratio of two rates of the same target (failures per check, ``_sum`` per
``_count``) has the same sample times, so extrapolation cancels and

    r(x) = (n0·(1-x) + n1·x) / (d0·(1-x) + d1·x)            (a plain rate: d0 = d1 = 1)

A relative signal compares ``r / B - offset`` with T, where B is the published
baseline floored as the rule does; that is ``r`` against the raw threshold
``θ = (T + offset)·B``. ``r`` is monotonic in x, so it crosses θ once, at

    x* = (θ·d0 - n0) / ((n1 - n0) - θ·(d1 - d0)).

For a reject rate stepping from ``b`` to ``m·b`` against ``T·b`` that is
``x* = (T-1)/(m-1)``: the new rate must fill ``(T-1)/(m-1)`` of the sampled
window. If the signal is still on the wrong side at ``x = 1`` the fault is too
small and the alert never fires. A band alert (``>= 2 <= 10``) holds from its
entry ``x_in`` to its exit ``x_out``; it can fire only if the signal stays in
the band for ``for``.

**2.** A rule evaluation sees it (every e). **3.** It stays true for ``for``:
pending at the first evaluation that sees it, firing at the first evaluation
at least ``for`` later, ``ceil(for/e)·e``. **4.** Alertmanager holds a new
group for ``group_wait`` before the first notification (an alert joining a
group still open from an earlier alert of its route goes out with that group's
next flush instead, up to ``group_interval`` later).

The earliest notification puts every phase in the fault's favour: a scrape
right after the crossing, an evaluation right after that scrape, and the
shortest sampled span (the window holds ``W/s`` samples, not one more):

    earliest = x*·L_min + ceil(for/e)·e + group_wait

A healthy pipeline may take up to one scrape and one evaluation more, with the
longest span: ``healthy = x*·L_max + s + e + ceil(for/e)·e + max(group_wait,
group_interval)``. MTTD counts from the end of the fault's inject action; a
fault that takes effect while that action still runs (traffic started before
it returns) can come in under the bound by that much.
A measured detection above ``healthy`` means time was lost outside physics
(a slow scrape, a late evaluation, a slow Alertmanager or webhook, a fault
slower to take effect than its injection reported).

:func:`first_firing` replays the same rules sample by sample, with
Prometheus' own ``extrapolatedRate``, on a fixed scrape and evaluation grid:
the promtool tests show it agrees with promtool, and that promtool's alerts
fire no sooner than :attr:`DetectionBound.earliest_firing_s`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from pfdrill.detect.shape import AlertCondition, Comparison, Shape, SignalShape

_EPS = 1e-9


@dataclasses.dataclass(frozen=True)
class Rates:
    """A windowed signal's parts at one moment: numerator and denominator, per second."""

    num: float
    den: float = 1.0

    @property
    def value(self) -> float:
        """``num / den``; NaN when both are zero (PromQL's 0/0), ±inf over a zero denominator."""
        if self.den == 0:
            return math.nan if self.num == 0 else math.copysign(math.inf, self.num)
        return self.num / self.den


@dataclasses.dataclass(frozen=True)
class Step:
    """A fault as the signal's rates see it: from ``before`` to ``after`` at one moment."""

    before: Rates
    after: Rates

    def mix(self, x: float) -> Rates:
        """The rates a window sees when the newest ``x`` of its span is after the step."""
        return Rates(self.before.num + (self.after.num - self.before.num) * x,
                     self.before.den + (self.after.den - self.before.den) * x)


@dataclasses.dataclass(frozen=True)
class OperatingPoint:
    """The steady state just before a fault: each windowed signal's rates, the published baselines.

    ``rates`` is keyed by the recording rule that holds the rates (``reject_rate``,
    ``witness_failure_ratio``, ...); ``baselines`` by ``pfdrill_baseline``'s signal label.
    Either may lack a signal; the bound then assumes what makes it smaller.
    """

    rates: Mapping[str, Rates] = dataclasses.field(default_factory=dict)
    baselines: Mapping[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Timing:
    """The pipeline's clock: scrape and evaluation interval, rate window, ``for``, group_wait."""

    scrape_s: float
    evaluation_s: float
    window_s: float
    for_s: float
    group_wait_s: float
    # An alert joining a group that is still open (an earlier alert on the same route)
    # waits for the group's next flush instead, at most this long.
    group_interval_s: float = 0.0

    @property
    def span_min_s(self) -> float:
        """The shortest span the samples of one window cover (``W/s`` samples)."""
        return max(0.0, (math.floor(self.window_s / self.scrape_s + _EPS) - 1) * self.scrape_s)

    @property
    def span_max_s(self) -> float:
        """The longest span (``W/s + 1`` samples, a scrape exactly on the window's start)."""
        return math.floor(self.window_s / self.scrape_s + _EPS) * self.scrape_s

    @property
    def hold_s(self) -> float:
        """``for`` as evaluations see it: the first evaluation at least ``for`` after pending."""
        return math.ceil(self.for_s / self.evaluation_s - _EPS) * self.evaluation_s


def raw_comparisons(condition: AlertCondition, shape: SignalShape,
                    published: float | None) -> tuple[Comparison, ...]:
    """The alert's comparisons in the units of ``pfdrill:<of>`` (undoing ``/ B - offset``)."""
    rel = shape.relative
    if rel is None:
        return condition.comparisons
    b = rel.divisor(published)
    return tuple(Comparison(c.op, (c.value + rel.offset) * b) for c in condition.comparisons)


def crossing(step: Step, comparisons: Sequence[Comparison]) -> tuple[float, float] | None:
    """The fractions ``(x_in, x_out)`` of the sampled window over which the condition holds.

    ``r(x)`` is monotonic, so each threshold is crossed at most once (see the
    module docstring for ``x*``) and the set where every comparison holds is one
    interval. ``None`` when the condition never holds for ``0 < x ≤ 1`` (the fault
    is too small, or moves the signal the other way); ``x_in = 0`` when it held
    before the fault already.
    """
    b, a = step.before, step.after
    cuts = {0.0, 1.0}
    for c in comparisons:
        denom = (a.num - b.num) - c.value * (a.den - b.den)
        if abs(denom) > _EPS:
            x = (c.value * b.den - b.num) / denom
            if 0.0 < x < 1.0:
                cuts.add(x)
    points = sorted(cuts)

    def holds(x: float) -> bool:
        v = step.mix(x).value
        return all(c.holds(v) for c in comparisons)

    runs: list[tuple[float, float]] = []
    for lo, hi in itertools.pairwise(points):
        if holds((lo + hi) / 2):
            if runs and abs(runs[-1][1] - lo) < _EPS:
                runs[-1] = (runs[-1][0], hi)
            else:
                runs.append((lo, hi))
    return runs[0] if runs else None


@dataclasses.dataclass(frozen=True)
class DetectionBound:
    """The earliest an alert can fire and be notified for one fault, and how that is made up."""

    alert: str
    shape: Shape
    timing: Timing
    enter: float | None  # x*: share of the sampled window the fault must fill; None: never
    leave: float = 1.0  # a band alert stops holding past this share
    sized: bool = True  # False: the fault's size was unknown, so no window fill was counted
    condition: str = ""  # e.g. "> 10" (in the signal's own units)

    @property
    def reachable(self) -> bool:
        """Whether physics lets the alert fire at all for this fault."""
        if self.enter is None:
            return False
        return (self.leave - self.enter) * self.timing.span_max_s + _EPS >= self.timing.hold_s \
            or self.leave >= 1.0

    @property
    def fill_s(self) -> float:
        """Window fill in the fault's favour (shortest sampled span)."""
        return (self.enter or 0.0) * self.timing.span_min_s

    @property
    def earliest_firing_s(self) -> float:
        return self.fill_s + self.timing.hold_s

    @property
    def earliest_s(self) -> float:
        """The bound: earliest notification after the fault, every phase in its favour."""
        return self.earliest_firing_s + self.timing.group_wait_s

    @property
    def healthy_s(self) -> float:
        """The latest a healthy pipeline notifies: longest span, a whole scrape and evaluation,
        and Alertmanager's longer wait (a new group's group_wait or an open one's interval)."""
        t = self.timing
        return ((self.enter or 0.0) * t.span_max_s + t.scrape_s + t.evaluation_s + t.hold_s
                + max(t.group_wait_s, t.group_interval_s))

    def describe(self) -> str:
        """``window fill 23.7 s (82% of a 29 s span) + for 2 s + group_wait 1 s = 26.7 s``."""
        t = self.timing
        if not self.reachable:
            return f"cannot fire for this fault ({self.shape.value} {self.condition})"
        tail = f"for {t.hold_s:g} s + group_wait {t.group_wait_s:g} s = {self.earliest_s:.1f} s"
        if not self.shape.windowed:
            return f"gauge: {tail}"
        if not self.sized:
            return f"{self.shape.value}, fault size unknown (no window fill counted): {tail}"
        if not self.enter:
            return f"{self.shape.value} crosses {self.condition} with the first events counted: {tail}"
        return (f"window fill {self.fill_s:.1f} s ({(self.enter or 0.0):.0%} of a "
                f"{t.span_min_s:g} s span to cross {self.condition}) + {tail}")

    def to_dict(self) -> dict[str, Any]:
        return {"alert": self.alert, "shape": self.shape.value, "enter": self.enter,
                "leave": self.leave, "sized": self.sized, "condition": self.condition,
                "reachable": self.reachable, "fill_s": self.fill_s,
                "earliest_firing_s": self.earliest_firing_s, "earliest_s": self.earliest_s,
                "healthy_s": self.healthy_s, "timing": dataclasses.asdict(self.timing)}


def bound(alert: str, condition: AlertCondition, shape: SignalShape, timing: Timing,
          step: Step | None, published: float | None = None) -> DetectionBound:
    """The bound for ``alert`` under ``step`` (``None``: a gauge, or a fault of unknown size).

    ``published`` is the baseline the rule divides a relative signal by.
    """
    text = str(condition)
    # "more than none" needs no fill whatever the fault's size: its first event crosses it
    from_zero = shape.relative is None and [(c.op, c.value) for c in condition.comparisons] == [(">", 0)]
    if not shape.shape.windowed or step is None:
        return DetectionBound(alert, shape.shape, timing, 0.0,
                              sized=not shape.shape.windowed or from_zero, condition=text)
    found = crossing(step, raw_comparisons(condition, shape, published))
    if found is None:
        return DetectionBound(alert, shape.shape, timing, None, condition=text)
    return DetectionBound(alert, shape.shape, timing, found[0], found[1], condition=text)


# --- sample-by-sample replay ------------------------------------------------------------
def prom_rate(samples: Sequence[tuple[float, float]], t: float, window_s: float) -> float | None:
    """Prometheus 2.x ``rate()`` (``extrapolatedRate``) of counter samples in ``[t-W, t]``."""
    inside = [(ts, v) for ts, v in samples if t - window_s - _EPS <= ts <= t + _EPS]
    if len(inside) < 2:
        return None
    (t0, v0), (t1, v1) = inside[0], inside[-1]
    result = v1 - v0
    to_start, to_end = t0 - (t - window_s), t - t1
    sampled = t1 - t0
    average = sampled / (len(inside) - 1)
    if result > 0 and v0 >= 0:
        to_start = min(to_start, sampled * (v0 / result))
    threshold = average * 1.1
    extrapolated = sampled + (to_start if to_start < threshold else average / 2) \
        + (to_end if to_end < threshold else average / 2)
    return result * (extrapolated / sampled) / window_s


def counter_samples(per_s_before: float, per_s_after: float, step_at: float, start: float,
                    horizon: float, scrape_s: float, offset: float = 0.0
                    ) -> list[tuple[float, float]]:
    """A counter whose slope steps at ``step_at``, scraped every ``scrape_s`` from ``offset``."""
    out = []
    k = 0
    while (ts := offset + k * scrape_s) <= horizon + _EPS:
        before = min(ts, step_at)
        value = start + per_s_before * before + per_s_after * max(0.0, ts - step_at)
        out.append((ts, value))
        k += 1
    return out


def first_firing(step: Step, comparisons: Sequence[Comparison], timing: Timing, step_at: float,
                 *, horizon: float, scrape_offset: float = 0.0, eval_offset: float = 0.0,
                 start: float = 10_000.0, gauge: bool = False) -> float | None:
    """When the alert first fires, replaying Prometheus on a fixed grid (``None``: not by ``horizon``).

    Windowed: numerator and denominator are counters (a plain rate's denominator
    rises by 1 a second, so its rate is exactly 1) whose slopes step at ``step_at``; each evaluation takes ``rate()`` of both
    over ``[t-W, t]``. Gauge: ``step.before.num`` becomes ``step.after.num`` at
    ``step_at`` and each evaluation reads the newest sample. Pending at the first
    evaluation where the condition holds, firing once ``t - active ≥ for``.
    """
    s, e = timing.scrape_s, timing.evaluation_s
    num = counter_samples(step.before.num, step.after.num, step_at, start, horizon, s, scrape_offset)
    den = counter_samples(step.before.den, step.after.den, step_at, start, horizon, s, scrape_offset)
    active: float | None = None
    j = 0
    while (t := eval_offset + j * e) <= horizon + _EPS:
        j += 1
        if gauge:
            seen = [ts for ts, _ in num if ts <= t + _EPS]
            value = math.nan if not seen else (step.after.num if seen[-1] >= step_at - _EPS
                                               else step.before.num)
        else:
            rn = prom_rate(num, t, timing.window_s)
            rd = prom_rate(den, t, timing.window_s)
            value = math.nan if rn is None or rd is None else Rates(rn, rd).value
        if all(c.holds(value) for c in comparisons):
            active = t if active is None else active
            if t - active + _EPS >= timing.for_s:
                return t
        else:
            active = None
    return None
