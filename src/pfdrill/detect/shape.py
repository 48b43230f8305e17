"""Signal shapes: how each alert's signal is built from the fabric's metrics, read from the rules.

The detection bound (:mod:`pfdrill.detect.bound`) needs to know, per alert,
whether its signal is a gauge (a level, seen at the next scrape) or a rate over
a window (which a new rate must first fill), and for rates what the numerator
and denominator are and what the signal is divided by. The shape is declared
in ``deploy/alerts/shapes.yaml`` (one word per signal); the rest is read from
the rendered rules: the recording rule ``pfdrill:<signal>`` and its top-level
division, the relative form ``pfdrill:<of> / clamp_min(pfdrill:baseline:<b>,
floor) - offset``, and each alert's comparison(s). A declared shape that
disagrees with its rule is refused, naming the line of ``shapes.yaml``.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc
from pfdrill.obs import rules as obs_rules
from pfdrill.obs.rules import AlertRule, RuleSet

SHAPES_FILE = "shapes.yaml"
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_COMPARISON = re.compile(rf"\s*(>=|<=|==|!=|>|<)\s*({_NUM})")
_ALERT = re.compile(r"^\s*pfdrill:([A-Za-z_][A-Za-z0-9_]*)((?:\s*(?:>=|<=|==|!=|>|<)\s*" + _NUM + r")+)\s*$")
_RELATIVE = re.compile(
    rf"^\s*pfdrill:([A-Za-z_]\w*)\s*/\s*clamp_min\(\s*pfdrill:baseline:([A-Za-z_]\w*)\s*,\s*({_NUM})\s*\)"
    rf"\s*(?:-\s*({_NUM}))?\s*$")
_WINDOWED = re.compile(r"\b(?:rate|increase|irate)\s*\(")


class Shape(enum.Enum):
    GAUGE = "gauge"
    RATE = "rate"
    RATE_RATIO = "rate_ratio"
    HISTOGRAM_MEAN = "histogram_mean"

    @property
    def windowed(self) -> bool:
        """True when the signal is a rate over the window, which a new rate must fill."""
        return self is not Shape.GAUGE


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}


@dataclasses.dataclass(frozen=True)
class Comparison:
    op: str
    value: float

    def holds(self, v: float) -> bool:
        """PromQL's filter: NaN compares false with everything."""
        return v == v and _OPS[self.op](v, self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclasses.dataclass(frozen=True)
class Relative:
    """``signal = pfdrill:<of> / max(published baseline of <baseline>, floor) - offset``."""

    of: str
    baseline: str
    floor: float
    offset: float = 0.0

    def divisor(self, published: float | None) -> float:
        """What the rule divides by: the published baseline, never below the floor."""
        return max(published if published is not None else 0.0, self.floor)


@dataclasses.dataclass(frozen=True)
class SignalShape:
    """One signal: its shape and, for windowed ones, where its rates come from."""

    signal: str
    shape: Shape
    of: str  # the recording rule that holds the rates (the signal itself unless relative)
    numerator: str = ""  # PromQL of the numerator rate (windowed shapes)
    denominator: str = ""  # PromQL of the denominator rate; empty: a plain rate
    relative: Relative | None = None


@dataclasses.dataclass(frozen=True)
class AlertCondition:
    """An alert's comparison(s) of its signal: ``pfdrill:x > 10`` or a band ``>= 2 <= 10``."""

    alert: str
    signal: str
    comparisons: tuple[Comparison, ...]

    def holds(self, value: float) -> bool:
        return all(c.holds(value) for c in self.comparisons)

    def __str__(self) -> str:
        return " ".join(str(c) for c in self.comparisons)


@dataclasses.dataclass(frozen=True)
class ShapeTable:
    signals: Mapping[str, SignalShape]
    alerts: Mapping[str, tuple[AlertRule, AlertCondition]]

    def of_alert(self, alert: str) -> tuple[AlertRule, AlertCondition, SignalShape] | None:
        found = self.alerts.get(alert)
        if found is None:
            return None
        rule, condition = found
        return rule, condition, self.signals[condition.signal]


def parse_condition(expr: str) -> tuple[str, tuple[Comparison, ...]] | None:
    """``pfdrill:<signal> OP number [OP number]`` → (signal, comparisons); None if not that."""
    match = _ALERT.match(" ".join(expr.split()))
    if match is None:
        return None
    return match.group(1), tuple(Comparison(op, float(v))
                                 for op, v in _COMPARISON.findall(match.group(2)))


def condition(rule: AlertRule) -> AlertCondition:
    """An alert rule's condition; anything but a comparison of its signal is refused (line)."""
    found = parse_condition(rule.expr)
    if found is None:
        raise InvalidInput(f"alert {rule.name}: cannot read its condition from {rule.expr!r}: "
                           "expected 'pfdrill:<signal> OP number [OP number]'", line=rule.line)
    signal, comparisons = found
    if signal != rule.signal:
        raise InvalidInput(f"alert {rule.name} compares pfdrill:{signal} but is labelled "
                           f"signal={rule.signal}", line=rule.line)
    return AlertCondition(rule.name, signal, comparisons)


def split_division(expr: str) -> tuple[str, str]:
    """``A / B`` at the top level (outside parentheses, brackets, braces, quotes) → (A, B);
    no top-level division → (expr, "")."""
    depth, quote, cut = 0, "", -1
    for i, ch in enumerate(expr):
        if quote:
            quote = "" if ch == quote and expr[i - 1] != "\\" else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "/" and depth == 0:
            if cut >= 0:
                raise ValueError(f"more than one top-level division in {expr!r}")
            cut = i
    if cut < 0:
        return expr.strip(), ""
    return expr[:cut].strip(), expr[cut + 1:].strip()


def _records(rules: RuleSet) -> dict[str, str]:
    return {r.name.removeprefix("pfdrill:"): " ".join(r.expr.split()) for r in rules.records
            if r.name.startswith("pfdrill:")}


def _shape_of(signal: str, declared: Shape, records: Mapping[str, str],
              fail: Callable[[str], InvalidInput]) -> SignalShape:
    expr = records.get(signal)
    if expr is None:
        raise fail(f"signal {signal}: the rules record no pfdrill:{signal}")
    relative = None
    match = _RELATIVE.match(expr)
    of = signal
    if match is not None:
        relative = Relative(of=match.group(1), baseline=match.group(2), floor=float(match.group(3)),
                            offset=float(match.group(4) or 0.0))
        of = relative.of
        if of not in records:
            raise fail(f"signal {signal} divides pfdrill:{of}, which the rules do not record")
        expr = records[of]
    windowed = bool(_WINDOWED.search(expr))
    if windowed != declared.windowed:
        said = "a rate over a window" if windowed else "a gauge"
        raise fail(f"signal {signal} is declared {declared.value}, but pfdrill:{of} is {said}: {expr}")
    if not windowed:
        return SignalShape(signal, declared, of)
    try:
        num, den = split_division(expr)
    except ValueError as exc:
        raise fail(f"signal {signal}: {exc}") from None
    if declared is Shape.RATE and den:
        raise fail(f"signal {signal} is declared rate, but pfdrill:{of} is a ratio: {expr}")
    if declared in (Shape.RATE_RATIO, Shape.HISTOGRAM_MEAN) and not den:
        raise fail(f"signal {signal} is declared {declared.value}, but pfdrill:{of} divides "
                   f"nothing: {expr}")
    if declared is Shape.HISTOGRAM_MEAN and not ("_sum[" in num and "_count[" in den):
        raise fail(f"signal {signal} is declared histogram_mean, but pfdrill:{of} is not "
                   f"rate(<h>_sum) / rate(<h>_count): {expr}")
    return SignalShape(signal, declared, of, num, den, relative)


def load(rules: RuleSet, path: Path | None = None) -> ShapeTable:
    """The shapes of every signal an alert of ``rules`` compares, checked against the rules."""
    path = path or obs_rules.alerts_dir() / SHAPES_FILE
    doc = yamldoc.load(path).root
    raw = doc.get("signals") if isinstance(doc, dict) else None
    if not isinstance(raw, dict):
        raise InvalidInput("a shapes file is a mapping with a 'signals' mapping", file=path,
                           line=yamldoc.line_of(doc))
    records = _records(rules)
    signals: dict[str, SignalShape] = {}
    for signal, word in raw.items():
        line = yamldoc.line_of(raw, signal)

        def fail(message: str, line: int | None = line) -> InvalidInput:
            return InvalidInput(message, file=path, line=line)

        try:
            declared = Shape(str(word).strip())
        except ValueError:
            raise fail(f"signal {signal}: unknown shape {word!r} (expected "
                       f"{', '.join(s.value for s in Shape)})") from None
        signals[signal] = _shape_of(signal, declared, records, fail)
    alerts: dict[str, tuple[AlertRule, AlertCondition]] = {}
    for rule in rules.alerts:
        try:
            cond = condition(rule)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, file=obs_rules.RULES_FILE, line=exc.line) from None
        if cond.signal not in signals:
            raise InvalidInput(f"no shape for signal {cond.signal} (alert {rule.name}, "
                               f"{obs_rules.RULES_FILE} line {rule.line})", file=path,
                               line=yamldoc.line_of(raw))
        alerts[rule.name] = (rule, cond)
    return ShapeTable(signals, alerts)
