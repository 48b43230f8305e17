"""Timing profiles: the one rule source rendered with production or drill windows.

``production`` keeps the runbook's windows (rates over 5m, ``for: 1m``);
``drill`` compresses them to seconds so that a drill detects in well under a
minute. The same numbers configure Prometheus (scrape/evaluation intervals),
Alertmanager (group_wait ...) and the detection bounds.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from pfdrill.formats import duration
from pfdrill.model.sla import TimingProfile


@dataclasses.dataclass(frozen=True)
class AlertTiming:
    name: TimingProfile
    scrape_interval_s: float
    evaluation_interval_s: float
    rate_window_s: float  # rate()/increase() window of every live signal
    for_s: float  # how long a condition must hold before an alert fires
    baseline_window_s: float  # fallback baseline: average over this long ...
    baseline_offset_s: float  # ... ending this long ago (so a fresh fault is not in it)
    group_wait_s: float  # Alertmanager: first notification of a new group
    group_interval_s: float
    repeat_interval_s: float
    sd_refresh_s: float  # file-SD re-read period (inotify usually beats it)
    resend_delay_s: float = 60.0  # Prometheus re-sends firing alerts this often (a lost send heals)

    @property
    def settle_s(self) -> float:
        """From a step change to a steady alert state, with margin: window + for + 2 evals."""
        return self.rate_window_s + self.for_s + 2 * self.evaluation_interval_s

    def variables(self) -> dict[str, str]:
        """Placeholders of ``deploy/alerts/source/rules.yml`` and its tests (``${name}``)."""
        history_s = self.baseline_offset_s + self.baseline_window_s + self.rate_window_s
        steady_n = math.ceil(history_s / self.scrape_interval_s)
        after_s = steady_n * self.scrape_interval_s + self.settle_s
        return {
            "profile": self.name.value,
            "scrape_interval": duration.text(self.scrape_interval_s),
            "evaluation_interval": duration.text(self.evaluation_interval_s),
            "window": duration.text(self.rate_window_s),
            "for": duration.text(self.for_s),
            "baseline_window": duration.text(self.baseline_window_s),
            "baseline_offset": duration.text(self.baseline_offset_s),
            # A published baseline survives a missed scrape of the sink for this long ...
            "baseline_hold": duration.text(max(5 * self.scrape_interval_s, 10.0)),
            # ... and the fallback needs a nearly full window of history: right after traffic
            # starts, an average over mostly nothing is no baseline at all.
            "baseline_min_samples": str(math.floor(
                0.9 * self.baseline_window_s / self.evaluation_interval_s)),
            "settle": duration.text(self.settle_s),
            # for tests of the fallback baseline: steady_n scrapes of history, then a change
            "steady_n": str(steady_n),
            "after_steady": duration.text(after_s),
            "change_at": duration.text((steady_n + 1) * self.scrape_interval_s),  # first changed sample
            "series_n": str(steady_n + math.ceil(2 * self.settle_s / self.scrape_interval_s)),
        }

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["name"] = self.name.value
        return d


PROFILES: dict[TimingProfile, AlertTiming] = {
    TimingProfile.PRODUCTION: AlertTiming(
        name=TimingProfile.PRODUCTION, scrape_interval_s=15, evaluation_interval_s=15,
        rate_window_s=300, for_s=60, baseline_window_s=3600, baseline_offset_s=900,
        group_wait_s=30, group_interval_s=300, repeat_interval_s=4 * 3600, sd_refresh_s=60,
    ),
    # A 30 s window: measured on the reference fabric at 20 req/s on a busy 2-core
    # machine, the mean latency over 10 s windows strayed up to 42% from its median
    # (false SEV-2/3), over 30 s at most 8%. Gauge alerts do not wait for the window.
    TimingProfile.DRILL: AlertTiming(
        name=TimingProfile.DRILL, scrape_interval_s=1, evaluation_interval_s=1,
        rate_window_s=30, for_s=2, baseline_window_s=120, baseline_offset_s=60,
        group_wait_s=1, group_interval_s=2, repeat_interval_s=60, sd_refresh_s=2,
        resend_delay_s=2,
    ),
}


def get(name: str | TimingProfile) -> AlertTiming:
    key = name if isinstance(name, TimingProfile) else TimingProfile.parse(name)
    return PROFILES[key]
