"""The thresholds table (``deploy/alerts/thresholds.yaml``): load, validate, query.

Validation makes the table safe to classify with: every severity is real, every
bullet of the runbook's table is covered, each indicator's rows tile one ray
towards "worse" with severities that never decrease along it (so worsening a
signal can never lower the severity). Every complaint names file and line.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path
from typing import Any

from pfdrill.classify import runbook_table
from pfdrill.formats import yamldoc
from pfdrill.model.severity import Severity
from pfdrill.model.signals import Direction, Indicator

_BOUND_KEYS = {"above": (False, False), "at_least": (False, True),
               "below": (True, False), "at_most": (True, True)}  # key: (is_upper, inclusive)
_ROW_KEYS = {"id", "signal", *_BOUND_KEYS}
_TOP_KEYS = {"tolerance", "baseline_floors", "severities"}
_FLOOR_SIGNALS = {"reject_rate", "latency_mean_seconds"}


def _same(value: float, threshold: float) -> bool:
    """Equal up to floating-point noise: 0.012/0.01 - 1 is 0.2 for a table that says 0.2."""
    return abs(value - threshold) <= 1e-9 * max(1.0, abs(threshold))


@dataclasses.dataclass(frozen=True)
class Bound:
    value: float
    inclusive: bool

    def text(self, upper: bool) -> str:
        op = ("<=" if self.inclusive else "<") if upper else (">=" if self.inclusive else ">")
        return f"{op} {self.value:g}"


@dataclasses.dataclass(frozen=True)
class Row:
    id: str
    severity: Severity
    item: str
    indicator: Indicator
    lower: Bound | None
    upper: Bound | None
    line: int = 0

    def matches(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.lower is not None and (
            (value < self.lower.value and not _same(value, self.lower.value))
            or (_same(value, self.lower.value) and not self.lower.inclusive)
        ):
            return False
        return not (self.upper is not None and (
            (value > self.upper.value and not _same(value, self.upper.value))
            or (_same(value, self.upper.value) and not self.upper.inclusive)
        ))

    @property
    def condition(self) -> str:
        parts = []
        if self.lower is not None:
            parts.append(self.lower.text(upper=False))
        if self.upper is not None:
            parts.append(self.upper.text(upper=True))
        return " and ".join(parts)

    @property
    def entry(self) -> Bound:
        """The bound crossed when the indicator gets worse into this row."""
        worse_up = self.indicator.spec.direction is Direction.HIGHER_IS_WORSE
        bound = self.lower if worse_up else self.upper
        assert bound is not None  # validated: every row is bounded on its better side
        return bound

    @property
    def exit(self) -> Bound | None:
        """The bound crossed when the indicator gets even worse (ranges only)."""
        worse_up = self.indicator.spec.direction is Direction.HIGHER_IS_WORSE
        return self.upper if worse_up else self.lower


@dataclasses.dataclass(frozen=True)
class ThresholdTable:
    rows: tuple[Row, ...]
    tolerance: float
    floors: dict[str, float]
    not_measured: dict[str, str]  # bullet -> why
    source: str

    def row(self, row_id: str) -> Row | None:
        return next((r for r in self.rows if r.id == row_id), None)

    def for_indicator(self, indicator: Indicator) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.indicator is indicator)

    def floor(self, name: str) -> float:
        return self.floors.get(name, 0.0)


def default_path() -> Path:
    from pfdrill.obs import rules  # the alerts directory is found once, there

    return rules.alerts_dir() / "thresholds.yaml"


def load(path: Path | None = None, table: runbook_table.RunbookTable | None = None) -> ThresholdTable:
    """Load and validate a thresholds file against the runbook's table."""
    path = path or default_path()
    return parse(yamldoc.load(path), table or runbook_table.BUILTIN)


def _at(node: Any, key: str | int | None = None) -> int:
    """The line of ``node`` (or of its ``key``) in the file; 1 when the loader has none."""
    return yamldoc.line_of(node, key) or 1


def _number(raw: Any, what: str, doc: yamldoc.Document, line: int) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or math.isnan(float(raw)):
        raise doc.error(f"{what} must be a number, not {raw!r}", line=line)
    return float(raw)


def parse(doc: yamldoc.Document, table: runbook_table.RunbookTable) -> ThresholdTable:
    top = doc.root
    if not isinstance(top, dict):
        raise doc.error("a thresholds file is a YAML mapping with 'severities'")
    unknown = sorted(set(map(str, top)) - _TOP_KEYS)
    if unknown:
        raise doc.error(f"unknown key {unknown[0]!r} (expected {', '.join(sorted(_TOP_KEYS))})",
                        line=_at(top, unknown[0]))
    tolerance = _number(top.get("tolerance", 0.02), "tolerance", doc, _at(top, "tolerance"))
    if not 0 < tolerance < 0.5:
        raise doc.error("tolerance must be between 0 and 0.5", line=_at(top, "tolerance"))
    floors = _floors(top, doc)
    severities = top.get("severities")
    if not isinstance(severities, dict):
        raise doc.error("'severities' must map SEV-1..SEV-4 to lists of runbook bullets",
                        line=_at(top, "severities"))
    rows: list[Row] = []
    not_measured: dict[str, str] = {}
    covered: dict[Severity, set[str]] = {}
    for key, entries in severities.items():
        line = _at(severities, key)
        try:
            severity = Severity.parse(str(key))
        except ValueError as exc:
            raise doc.error(str(exc), line=line) from exc
        if severity is Severity.NONE:
            raise doc.error("severity 'none' has no rows; list SEV-1..SEV-4", line=line)
        if not isinstance(entries, list):
            raise doc.error(f"{severity.value} must be a list of bullets", line=line)
        for i, entry in enumerate(entries):
            item = _entry(entry, severity, doc, _at(entries, i), table, rows, not_measured)
            covered.setdefault(severity, set()).add(runbook_table.normalise(item))
    for severity, bullets in table.items.items():
        for bullet in bullets:
            if runbook_table.normalise(bullet) not in covered.get(severity, set()):
                where = _at(severities, severity.value) if severity.value in severities \
                    else _at(severities)
                raise doc.error(f"missing row: {severity.value} {bullet!r} of the runbook's table "
                                f"({table.source}) has no entry", line=where)
    result = ThresholdTable(tuple(rows), tolerance, floors, not_measured, doc.file)
    for indicator in Indicator:
        _check_ray(result.for_indicator(indicator), indicator, doc)
    return result


def _floors(top: dict[Any, Any], doc: yamldoc.Document) -> dict[str, float]:
    raw = top.get("baseline_floors") or {}
    if not isinstance(raw, dict):
        raise doc.error("baseline_floors must be a mapping", line=_at(top, "baseline_floors"))
    out = {}
    for name, value in raw.items():
        if name not in _FLOOR_SIGNALS:
            raise doc.error(f"unknown baseline floor {name!r} (expected "
                            f"{', '.join(sorted(_FLOOR_SIGNALS))})", line=_at(raw, name))
        out[name] = _number(value, f"baseline_floors.{name}", doc, _at(raw, name))
    return out


def _entry(entry: Any, severity: Severity, doc: yamldoc.Document, line: int,
           table: runbook_table.RunbookTable, rows: list[Row], not_measured: dict[str, str]) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("item"), str):
        raise doc.error(f"each {severity.value} entry needs 'item' (a bullet of the runbook's "
                        "table)", line=_at(entry) if isinstance(entry, dict) else line)
    item: str = entry["item"]
    listed = table.severity_of(item)
    if listed is None:
        raise doc.error(f"item {item!r} is not a bullet of the runbook's table ({table.source})",
                        line=_at(entry, "item"))
    if listed is not severity:
        raise doc.error(f"item {item!r} is listed under {severity.value} here but under "
                        f"{listed.value} in the runbook", line=_at(entry, "item"))
    extra = sorted(set(map(str, entry)) - {"item", "rows", "not_measured"})
    if extra:
        raise doc.error(f"unknown key {extra[0]!r} in an entry (expected item, rows, "
                        "not_measured)", line=_at(entry, extra[0]))
    raw_rows = entry.get("rows") or []
    if not isinstance(raw_rows, list):
        raise doc.error("'rows' must be a list", line=_at(entry, "rows"))
    if not raw_rows:
        why = entry.get("not_measured")
        if not isinstance(why, str) or not why.strip():
            raise doc.error(f"missing row: {severity.value} {item!r} has no rows and no "
                            "'not_measured' reason", line=_at(entry))
        not_measured[item] = why
        return item
    for j, raw in enumerate(raw_rows):
        rows.append(_row(raw, severity, item, doc, _at(raw_rows, j), rows))
    return item


def _row(raw: Any, severity: Severity, item: str, doc: yamldoc.Document, line: int,
         seen: list[Row]) -> Row:
    if not isinstance(raw, dict):
        raise doc.error("a row is a mapping {id, signal, and bounds}", line=line)
    line = _at(raw)
    extra = sorted(set(map(str, raw)) - _ROW_KEYS)
    if extra:
        raise doc.error(f"unknown key {extra[0]!r} in a row (expected id, signal, above, "
                        "at_least, below, at_most)", line=_at(raw, extra[0]))
    row_id = raw.get("id")
    if not isinstance(row_id, str) or not row_id:
        raise doc.error("a row needs an 'id'", line=line)
    if any(r.id == row_id for r in seen):
        raise doc.error(f"duplicate row id {row_id!r}", line=_at(raw, "id"))
    try:
        indicator = Indicator.parse(str(raw.get("signal")))
    except ValueError as exc:
        raise doc.error(str(exc), line=_at(raw, "signal")) from exc
    lower = upper = None
    for key, (is_upper, inclusive) in _BOUND_KEYS.items():
        if key not in raw:
            continue
        bound = Bound(_number(raw[key], key, doc, _at(raw, key)), inclusive)
        if (upper if is_upper else lower) is not None:
            raise doc.error(f"row {row_id!r} has two {'upper' if is_upper else 'lower'} bounds",
                            line=_at(raw, key))
        if is_upper:
            upper = bound
        else:
            lower = bound
    worse_up = indicator.spec.direction is Direction.HIGHER_IS_WORSE
    if (lower if worse_up else upper) is None:
        side = "lower (above/at_least)" if worse_up else "upper (below/at_most)"
        raise doc.error(f"row {row_id!r}: {indicator.value} gets worse as it "
                        f"{'rises' if worse_up else 'falls'}, so it needs a {side} bound",
                        line=line)
    if lower is not None and upper is not None and not lower.value < upper.value:
        raise doc.error(f"row {row_id!r}: empty range {lower.value:g}..{upper.value:g}", line=line)
    return Row(row_id, severity, item, indicator, lower, upper, line)


def _check_ray(rows: tuple[Row, ...], indicator: Indicator, doc: yamldoc.Document) -> None:
    """Rows of one indicator must tile [first threshold, worst) with rising severity."""
    if not rows:
        return
    worse_up = indicator.spec.direction is Direction.HIGHER_IS_WORSE
    ordered = sorted(rows, key=lambda r: r.entry.value, reverse=not worse_up)
    for better, worse in itertools.pairwise(ordered):
        gap = better.exit
        if gap is None:
            raise doc.error(f"rows {better.id!r} and {worse.id!r} of {indicator.value} overlap",
                            line=worse.line)
        if gap.value != worse.entry.value or gap.inclusive == worse.entry.inclusive:
            raise doc.error(f"rows {better.id!r} and {worse.id!r} of {indicator.value} must "
                            "meet exactly (e.g. 'at_most: X' then 'above: X'); they leave a gap "
                            "or overlap", line=worse.line)
        if worse.severity < better.severity:
            raise doc.error(f"row {worse.id!r} ({worse.severity.value}) is worse than row "
                            f"{better.id!r} ({better.severity.value}) but less severe",
                            line=worse.line)
    if ordered[-1].exit is not None:
        raise doc.error(f"row {ordered[-1].id!r} ends at {ordered[-1].exit.value:g}: worse "
                        f"values of {indicator.value} would match no row", line=ordered[-1].line)
