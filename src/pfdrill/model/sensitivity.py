"""Sensitivity records: the smallest fault an alert catches, measured on the live stack.

``pfdrill sensitivity`` injects a fault at several sizes (each a drill of its
own: preflight, inject, detect, restore) and records, per size, whether the
alert was notified within the SLA and how fast; then compares the detection
edge with the threshold of the runbook's severity table. Sizes are in the
fault parameter's units (a multiplier, a percentage, a fraction); ``signal``
values in the units of the alert's signal (what the table's row speaks of).
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.model.codec import Record


class EdgeVerdict(enum.Enum):
    AGREES = "agrees"  # the table's threshold lies within the measured edge, give or take noise
    MIS_SET = "mis_set"  # the alert fires somewhere else than the table says
    INCONCLUSIVE = "inconclusive"  # not enough evidence either way (budget, errors, noise)


class TrialOutcome(enum.Enum):
    DETECTED = "detected"  # notified within the SLA
    MISSED = "missed"  # injected and proven, not notified within the SLA
    ERROR = "error"  # the probe could not be carried out (preflight, injection, environment)


@dataclasses.dataclass(frozen=True)
class Trial(Record):
    """One injection at one size."""

    size: float
    signal: float | None  # the alert's signal once the fault fills the window (size model)
    outcome: TrialOutcome
    mttd_s: float | None = None
    bound_s: float | None = None  # the physical bound at this size; None: it cannot fire
    drill: str = ""  # the probe's drill name in the run's reports
    reason: str = ""  # why it was missed, or what went wrong


@dataclasses.dataclass(frozen=True)
class Sensitivity(Record):
    """One alert's search: what was tried, where the edge is, and whether the table agrees."""

    alert: str
    fault: str
    param: str  # the fault parameter that sets the size
    unit: str
    signal: str  # the alert's signal (pfdrill:<signal>)
    rule: str  # the loaded rule's condition, e.g. "> 10"
    row: str  # the thresholds table's row
    table_threshold: float  # where the row starts, in signal units
    table_size: float | None  # the fault size that puts the signal at the table's threshold
    detect_s: float  # the SLA: notified within this long of the injection
    predicted_size: float  # where the bound theory puts the edge
    noise: float  # 2 standard deviations of the steady-state signal
    trials: tuple[Trial, ...] = ()
    verdict: EdgeVerdict = EdgeVerdict.INCONCLUSIVE
    message: str = ""
    bound_curve: tuple[tuple[float, float], ...] = ()  # (size, bound s) for the chart

    @property
    def largest_missed(self) -> Trial | None:
        return max((t for t in self.trials if t.outcome is TrialOutcome.MISSED), key=lambda t: t.size,
                   default=None)

    @property
    def smallest_detected(self) -> Trial | None:
        return min((t for t in self.trials if t.outcome is TrialOutcome.DETECTED),
                   key=lambda t: t.size, default=None)
