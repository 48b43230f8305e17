"""Proof helpers shared by fault modules: what every watcher reports, over a short window."""

from __future__ import annotations

from collections.abc import Mapping

from pfdrill.faults.base import Observation
from pfdrill.faults.context import FaultContext
from pfdrill.faults.metrics import Scrape
from pfdrill.formats.exposition import series_key
from pfdrill.model import metrics as m

PROVE_WINDOW_S = 3.0
# A proof accepts a measured effect from this share of its target up: generated
# load ramps up and rates are sampled over a short window.
TOLERANCE = 0.8


def gauge_everywhere(scrape: Scrape, name: str, labels: Mapping[str, str] | None,
                     want: float) -> tuple[bool, str]:
    """True when at least one watcher reports the gauge and every watcher has ``want``."""
    values = scrape.values(name, labels)
    shown = series_key(name, labels)
    if not values:
        return False, f"no watcher reports {shown}"
    agree = sum(1 for v in values if v == want)
    return agree == len(values), f"{shown}={want:g} on {agree}/{len(values)} watchers"


def mode_in_effect(ctx: FaultContext, mode: str) -> Observation:
    ok, detail = gauge_everywhere(ctx.scrape(), m.ENFORCEMENT_MODE.name, {"mode": mode}, 1.0)
    return Observation(ok, f"enforcement mode {mode!r} in effect: {detail}")
