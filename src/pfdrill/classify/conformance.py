"""Threshold conformance: do the alert rules and the classifier fire where the runbook says?

For every row of the thresholds table and every boundary it has, metric
series are generated at and around the threshold and run through the rendered
rules with ``promtool test rules`` (one test file per probe, all in one
promtool call per profile); the classifier sees the same values as signals.
A row conforms when, for every profile, its alert is silent at
``threshold*(1-tolerance)`` and firing at ``threshold*(1+tolerance)`` (mirrored
for ranges and for indicators that worsen downwards), the alert carries the
row's severity and signal, and the classifier agrees. A scan over a wider grid
locates where the alert really switches, for the report.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from pfdrill.classify import classifier, probe
from pfdrill.classify.thresholds import Bound, Row, ThresholdTable
from pfdrill.formats import duration
from pfdrill.model.severity import Severity
from pfdrill.model.signals import Direction, Indicator, Kind
from pfdrill.obs import profile as profiles
from pfdrill.obs import promtool, rules
from pfdrill.obs.profile import AlertTiming

_SCAN = (0.5, 0.9, 1.1, 2.0)  # times the threshold; refined where an alert is off


@dataclasses.dataclass(frozen=True)
class Boundary:
    """One threshold of a row, and what each side observed around it."""

    row: str
    bound: str  # e.g. "> 0.01" or "<= 0.5"
    threshold: float
    inside: float  # the probe that must match/fire
    outside: float  # the probe that must not
    classifier_ok: bool
    fired: dict[str, tuple[bool, bool]]  # profile -> (fired inside, fired outside)
    observed: dict[str, str]  # profile -> where the alert really switches

    @property
    def rules_ok(self) -> bool:
        return all(inside and not outside for inside, outside in self.fired.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row, "bound": self.bound, "threshold": self.threshold,
            "inside": self.inside, "outside": self.outside,
            "classifier_ok": self.classifier_ok,
            "fired": {p: {"inside": i, "outside": o} for p, (i, o) in self.fired.items()},
            "observed": dict(self.observed), "rules_ok": self.rules_ok,
        }


@dataclasses.dataclass(frozen=True)
class RowReport:
    row: Row
    alerts: tuple[str, ...]
    boundaries: tuple[Boundary, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems and all(b.rules_ok and b.classifier_ok for b in self.boundaries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row.id, "severity": self.row.severity.value, "item": self.row.item,
            "signal": self.row.indicator.value, "condition": self.row.condition,
            "alerts": list(self.alerts), "boundaries": [b.to_dict() for b in self.boundaries],
            "problems": list(self.problems), "ok": self.ok,
        }


@dataclasses.dataclass(frozen=True)
class Report:
    rows: tuple[RowReport, ...]
    stray_alerts: tuple[str, ...]  # alerts naming a row the table lacks
    profiles: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.stray_alerts and all(r.ok for r in self.rows)

    def failing(self) -> list[RowReport]:
        return [r for r in self.rows if not r.ok]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "profiles": list(self.profiles),
                "rows": [r.to_dict() for r in self.rows], "stray_alerts": list(self.stray_alerts)}


def _inside_outside(row: Row, bound: Bound, is_entry: bool, tolerance: float) -> tuple[float, float]:
    """The probe values just inside and just outside ``bound``."""
    worse_up = row.indicator.spec.direction is Direction.HIGHER_IS_WORSE
    # Which way is "into the row" from this bound: towards worse for the entry bound.
    inward_up = worse_up if is_entry else not worse_up
    t = bound.value
    if row.indicator.spec.kind in (Kind.FLAG, Kind.COUNT):
        step = 1.0  # whole numbers: the neighbours of the threshold
        if bound.inclusive:
            return t, t - step if inward_up else t + step
        return (t + step, t) if inward_up else (t - step, t)
    if t == 0:
        delta = tolerance
        return (delta, 0.0) if inward_up else (-delta, 0.0)
    up, down = t * (1 + tolerance), t * (1 - tolerance)
    if t < 0:
        up, down = down, up
    return (up, down) if inward_up else (down, up)


def _scan_values(bound: Bound, inside: float, outside: float, kind: Kind) -> list[float]:
    if kind in (Kind.FLAG, Kind.COUNT):
        return sorted({inside, outside})
    t = bound.value
    grid = [t * m for m in _SCAN] if t != 0 else [0.0, 0.05, 0.5]
    return sorted({*grid, inside, outside})


def _switch(values: Sequence[float], fired: Sequence[bool], threshold: float) -> str:
    """Describe where firing changes nearest the threshold."""
    found = _bracket(values, fired, threshold)
    if found is None:
        state = "always fires" if all(fired) else "never fires"
        return f"{state} in {values[0]:g}..{values[-1]:g}"
    return f"switches between {found[0]:.6g} and {found[1]:.6g}"


def _test_file(directory: Path, name: str, rule_file: Path, prof: AlertTiming,
               alert: str, pr: probe.Probe) -> Path:
    settle = math.ceil(prof.settle_s)
    step = prof.scrape_interval_s  # the series look like what Prometheus would scrape
    samples = math.ceil(settle / step) + 10
    doc = {
        "rule_files": [str(rule_file)],
        "evaluation_interval": duration.text(prof.evaluation_interval_s),
        "tests": [{
            "interval": duration.text(step),
            "input_series": [{"series": s.selector, "values": s.values(samples, step)}
                             for s in pr.series],
            "alert_rule_test": [{"eval_time": f"{settle}s", "alertname": alert, "exp_alerts": []}],
        }],
    }
    path = directory / f"{name}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _write_probes(rule_file: Path, prof: AlertTiming,
                  cases: Sequence[tuple[str, float, Indicator]],
                  workdir: Path) -> dict[Path, tuple[str, float]]:
    """One promtool test file per (alert, value, indicator) case."""
    directory = workdir / f"probes-{prof.name.value}"
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[Path, tuple[str, float]] = {}
    for i, (alert, value, indicator) in enumerate(cases):
        path = _test_file(directory, f"p{i:04d}-{alert}", rule_file, prof, alert,
                          probe.build(indicator, value))
        files[path] = (alert, value)
    return files


_Case = tuple[str, float, Indicator]  # (alert, value, indicator)
_Fired = dict[str, dict[tuple[str, float], bool]]  # profile -> (alert, value) -> fired


def _probe_all(cases: dict[str, set[_Case]], rendered: dict[str, Path], base: Path,
               round_: int, fired: _Fired) -> None:
    """Run every case of every profile in one (parallel) promtool call; record who fired."""
    files: dict[str, dict[Path, tuple[str, float]]] = {}
    for name, wanted in cases.items():
        ordered = sorted(wanted, key=lambda c: (c[0], c[1]))
        files[name] = _write_probes(rendered[name], profiles.get(name), ordered,
                                    base / f"round{round_}")
    run = promtool.run_tests([f for per in files.values() for f in per])
    for name, per in files.items():
        # exp_alerts is empty: a file passes exactly when the alert stays silent.
        fired.setdefault(name, {}).update({case: not run.passed[f] for f, case in per.items()})


def _bracket(values: Sequence[float], fired: Sequence[bool], threshold: float) -> tuple[float, float] | None:
    pairs = list(zip(values, fired, strict=True))
    changes = [(a, b) for (a, fa), (b, fb) in itertools.pairwise(pairs) if fa != fb]
    if not changes:
        return None
    return min(changes, key=lambda ab: abs((ab[0] + ab[1]) / 2 - threshold))


def check(table: ThresholdTable, source: Path | None = None,
          profile_names: Iterable[str] = ("drill", "production"),
          workdir: Path | None = None) -> Report:
    source = source or rules.alerts_dir() / rules.RULES_FILE
    chosen = [profiles.get(n) for n in profile_names]
    with tempfile.TemporaryDirectory(prefix="pfdrill-conform-") as tmp:
        base = workdir or Path(tmp)
        rendered: dict[str, Path] = {}
        ruleset = None
        for prof in chosen:
            path = rules.render_to(base / prof.name.value, prof, source)
            promtool.check_rules(path, source=source)
            rendered[prof.name.value] = path
            ruleset = ruleset or rules.load(path)
        assert ruleset is not None
        plans = [_plan(row, table, ruleset) for row in table.rows]
        first = {(alert, v, row.indicator) for row, alerts, bounds, _ in plans for alert in alerts
                 for (_, _, _, _, scan) in bounds for v in scan}
        fired: _Fired = {}
        _probe_all({name: first for name in rendered}, rendered, base, 1, fired)
        # Where an alert switches off its threshold, probe finely between the two scan
        # values around the switch, so the report can say where it really fires.
        finer: dict[str, set[_Case]] = {}
        for row, alerts, bounds, _ in plans:
            for bound, _, inside, outside, scan in bounds:
                for name, results in fired.items():
                    for alert in alerts:
                        if results[(alert, inside)] and not results[(alert, outside)]:
                            continue
                        found = _bracket(scan, [results[(alert, v)] for v in scan], bound.value)
                        if found is not None and row.indicator.spec.kind not in (Kind.FLAG, Kind.COUNT):
                            a, b = found
                            finer.setdefault(name, set()).update(
                                (alert, a + (b - a) * i / 10, row.indicator) for i in range(1, 10))
        if finer:
            _probe_all(finer, rendered, base, 2, fired)
        reports = [_row_report(plan, table, fired) for plan in plans]
    row_ids = {r.id for r in table.rows}
    stray = tuple(f"{a.name} (row {a.row!r})" for a in ruleset.alerts if a.row not in row_ids)
    return Report(tuple(reports), stray, tuple(p.name.value for p in chosen))


_Plan = tuple[Row, tuple[str, ...], list[tuple[Bound, bool, float, float, list[float]]], list[str]]


def _plan(row: Row, table: ThresholdTable, ruleset: rules.RuleSet) -> _Plan:
    problems: list[str] = []
    alerts = ruleset.for_row(row.id)
    if not alerts and row.severity >= Severity.SEV3:
        problems.append(f"no alert carries row={row.id} ({row.severity.value} needs one)")
    for alert in alerts:
        if alert.severity is not row.severity:
            problems.append(f"alert {alert.name} is labelled {alert.severity.value}, "
                            f"the row says {row.severity.value}")
        if alert.signal != row.indicator.value:
            problems.append(f"alert {alert.name} is labelled signal={alert.signal}, "
                            f"the row compares {row.indicator.value}")
    bounds = [(row.entry, True)] + ([(row.exit, False)] if row.exit is not None else [])
    planned = []
    for bound, is_entry in bounds:
        inside, outside = _inside_outside(row, bound, is_entry, table.tolerance)
        scan = _scan_values(bound, inside, outside, row.indicator.spec.kind)
        planned.append((bound, is_entry, inside, outside, scan))
    return row, tuple(a.name for a in alerts), planned, problems


def _row_report(plan: _Plan, table: ThresholdTable,
                fired: dict[str, dict[tuple[str, float], bool]]) -> RowReport:
    row, alerts, bounds, problems = plan
    out: list[Boundary] = []
    for bound, is_entry, inside, outside, scan in bounds:
        upper = (row.indicator.spec.direction is Direction.HIGHER_IS_WORSE) != is_entry
        matched = [_row_matches(row, table, v) for v in (inside, outside)]
        per_profile: dict[str, tuple[bool, bool]] = {}
        observed: dict[str, str] = {}
        for name, results in fired.items():
            for alert in alerts:
                key = f"{name}:{alert}" if len(alerts) > 1 else name
                per_profile[key] = (results[(alert, inside)], results[(alert, outside)])
                lo, hi = min(scan), max(scan)
                seen = sorted(v for (a, v) in results if a == alert and lo <= v <= hi)
                observed[key] = _switch(seen, [results[(alert, v)] for v in seen], bound.value)
        out.append(Boundary(
            row=row.id, bound=bound.text(upper=upper), threshold=bound.value, inside=inside,
            outside=outside, classifier_ok=matched == [True, False], fired=per_profile,
            observed=observed,
        ))
    for b in out:
        for name, (fin, fout) in b.fired.items():
            if not fin:
                problems.append(f"[{name}] silent at {b.inside:g}; the row says it must fire ({b.bound})")
            if fout:
                problems.append(f"[{name}] fires at {b.outside:g}; the row says it must not ({b.bound}); "
                                f"alert {b.observed[name]}")
        if not b.classifier_ok:
            problems.append(f"classifier disagrees with the row at {b.inside:g}/{b.outside:g}")
    return RowReport(row, alerts, tuple(out), tuple(problems))


def _row_matches(row: Row, table: ThresholdTable, value: float) -> bool:
    pr = probe.build(row.indicator, value)
    result = classifier.classify(pr.signals, pr.baseline, table)
    return any(r.row == row.id for r in result.reasons)


def table_text(report: Report) -> str:
    """The conformance table as fixed-width text."""
    header = ("ROW", "SEV", "CONDITION", "ALERT", "OBSERVED (" + "/".join(report.profiles) + ")", "OK")
    lines: list[tuple[str, ...]] = [header]
    for r in report.rows:
        alerts = ",".join(r.alerts) or "-"
        if not r.boundaries:
            lines.append((r.row.id, r.row.severity.value, r.row.condition, alerts, "-", _ok(r.ok)))
        for i, b in enumerate(r.boundaries):
            seen = "; ".join(sorted(set(b.observed.values()))) if b.observed else "classifier only"
            lines.append((r.row.id if i == 0 else "", r.row.severity.value if i == 0 else "",
                          b.bound, alerts if i == 0 else "", seen, _ok(r.ok) if i == 0 else ""))
    widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
    text = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)
    for r in report.failing():
        for p in r.problems:
            text += f"\nrow {r.row.id}: {p}"
    for s in report.stray_alerts:
        text += f"\nalert {s} names a row the thresholds table does not have"
    return text


def _ok(ok: bool) -> str:
    return "ok" if ok else "FAIL"
