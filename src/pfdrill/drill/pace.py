"""Detection against physics: each alert's bound for the injected fault, and whether MTTD kept pace.

The bound (:mod:`pfdrill.detect.bound`) needs the alert's rule and shape (the
rules rendered for the drill's timing profile, :mod:`pfdrill.detect.shape`),
the fault's size (:mod:`pfdrill.faults.size`, from the drill's parameters and
the baseline it published) and the operating point: the rates behind each
windowed signal over the window that ended at the injection, read from
Prometheus through the drill's metrics port.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping, Sequence

from pfdrill.detect import bound as physics
from pfdrill.detect import shape as shapes
from pfdrill.detect.bound import DetectionBound, OperatingPoint, Rates, Timing
from pfdrill.drill.ports import MetricsSource
from pfdrill.faults import size
from pfdrill.faults.registry import baseline_params
from pfdrill.model.drill import FaultSpec
from pfdrill.model.evidence import AlertEvidence, DetectionPace, Signal
from pfdrill.model.sla import TimingProfile
from pfdrill.obs import profile as obs_profile
from pfdrill.obs import rules as obs_rules
from pfdrill.settings.config import Config


@dataclasses.dataclass(frozen=True)
class Physics:
    """Everything the bound reads that does not change during a run: rules, shapes, timing."""

    profile: obs_profile.AlertTiming
    table: shapes.ShapeTable

    def timing(self, for_s: float) -> Timing:
        p = self.profile
        return Timing(scrape_s=p.scrape_interval_s, evaluation_s=p.evaluation_interval_s,
                      window_s=p.rate_window_s, for_s=for_s, group_wait_s=p.group_wait_s,
                      group_interval_s=p.group_interval_s)


@functools.cache
def _physics(profile: str, alerts_dir: str) -> Physics:
    source = obs_rules.alerts_dir() / obs_rules.RULES_FILE
    prof = obs_profile.get(profile)
    ruleset = obs_rules.parse(obs_rules.render(source, prof), source)
    return Physics(prof, shapes.load(ruleset))


def physics_for(profile: TimingProfile) -> Physics:
    """The rule source (``$PFDRILL_ALERTS_DIR`` or ``deploy/alerts``) rendered for ``profile``."""
    return _physics(profile.value, str(obs_rules.alerts_dir()))


def at_time(expr: str, unix: float) -> str:
    """``expr`` evaluated at ``unix`` through the instant-query port (which asks "now").

    A one-step subquery pinned with ``@`` evaluates the expression on its own
    grid at or just before that moment (Prometheus >= 2.33).
    """
    return f"last_over_time(({expr})[1s:1s] @ {unix:.3f})"


def operating_point(metrics: MetricsSource, p: Physics, signals: Sequence[str], at: dt.datetime,
                    baseline: Sequence[Signal]) -> OperatingPoint:
    """The rates behind ``signals`` (recording-rule names) over the window ending ``at``."""
    rates: dict[str, Rates] = {}
    for name in dict.fromkeys(signals):
        found = p.table.signals.get(name) or next(
            (s for s in p.table.signals.values() if s.of == name), None)
        if found is None or not found.shape.windowed:
            continue
        num = metrics.instant(at_time(found.numerator, at.timestamp()))
        den = (metrics.instant(at_time(found.denominator, at.timestamp()))
               if found.denominator else 1.0)
        if num is not None and den is not None:
            rates[found.of] = Rates(num, den)
    return OperatingPoint(rates=rates, baselines={s.name: s.value for s in baseline})


def bounds(p: Physics, alerts: Sequence[str], fault: FaultSpec, point: OperatingPoint
           ) -> dict[str, DetectionBound]:
    """The bound of each of ``alerts`` the rules know, for ``fault`` at ``point``."""
    params = {**baseline_params(fault.name, point.baselines), **fault.params}
    sized = size.step(fault.name, params, point)
    out: dict[str, DetectionBound] = {}
    for alert in alerts:
        found = p.table.of_alert(alert)
        if found is None:
            continue
        rule, condition, shape = found
        step = sized[1] if sized is not None and sized[0] == shape.of else None
        published = point.baselines.get(shape.relative.baseline) if shape.relative else None
        out[alert] = physics.bound(alert, condition, shape, p.timing(rule.for_s), step, published)
    return out


def signals_of(p: Physics, alerts: Sequence[str]) -> list[str]:
    """The recording rules whose rates the bounds of ``alerts`` read."""
    out = []
    for alert in alerts:
        found = p.table.of_alert(alert)
        if found is not None and found[2].shape.windowed:
            out.append(found[2].of)
    return out


def judge(alerts: Sequence[AlertEvidence], mttd_s: float,
          found: Mapping[str, DetectionBound], config: Config) -> DetectionPace | None:
    """MTTD against the bound of the expected alert notified first (the one MTTD measures)."""
    first = min((a for a in alerts if a.expected and a.notified_at is not None),
                key=lambda a: a.notified_at or 0.0, default=None)
    if first is None or first.alert not in found:
        return None
    b = found[first.alert]
    if not b.reachable:
        return None
    return DetectionPace(alert=first.alert, mttd_s=round(mttd_s, 3), bound_s=round(b.earliest_s, 3),
                         healthy_s=round(b.healthy_s, 3),
                         margin_s=config.slow_detection_margin_s, note=b.describe())
