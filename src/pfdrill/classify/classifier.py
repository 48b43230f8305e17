"""The severity classifier: live signals against the baseline, through the thresholds table.

The severity is the worst severity of any matching row; every matching row is
a reason, with its value. No row matching means "no incident".
"""

from __future__ import annotations

from pfdrill.classify import indicators
from pfdrill.classify.thresholds import ThresholdTable
from pfdrill.model.severity import Severity
from pfdrill.model.signals import Baseline, RowMatch, Signals, SignalVerdict


def classify(signals: Signals, baseline: Baseline, table: ThresholdTable) -> SignalVerdict:
    reasons: list[RowMatch] = []
    for row in table.rows:
        value = indicators.value(row.indicator, signals, baseline, table.floors)
        if value is not None and row.matches(value):
            reasons.append(RowMatch(
                row=row.id, severity=row.severity, item=row.item, indicator=row.indicator,
                value=value, condition=row.condition,
            ))
    reasons.sort(key=lambda r: r.severity, reverse=True)
    severity = reasons[0].severity if reasons else Severity.NONE
    return SignalVerdict(severity=severity, reasons=tuple(reasons), signals=signals,
                          baseline=baseline)
