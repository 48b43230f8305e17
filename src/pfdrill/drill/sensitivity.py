"""``pfdrill sensitivity``: the smallest fault each alert catches, measured on the live stack.

For one alert (or every alert a fault can trip), the fault's size parameter
(:mod:`pfdrill.faults.size`) is searched for the edge between detected within
the SLA and missed (:mod:`pfdrill.detect.edge`), starting where the detection
bound puts it. Each size is a drill of its own through the ordinary engine —
preflight (allow-list, opt-in, the drill Lease, steady state, the last fault's
window waited out, a fresh baseline), inject, detect — and restore always
(rollback, snapshot, lease), so no new injection code exists and no safety
step is skipped. The edge, in the units of the alert's signal, is then
compared with the row of the runbook's severity table: a table threshold
outside the measured edge by more than the steady state's noise is reported
as mis-set. The searches are listed in ``drills/sensitivity.yaml``.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pfdrill.classify import thresholds
from pfdrill.detect import bound as physics
from pfdrill.detect import edge, shape
from pfdrill.detect.bound import DetectionBound, OperatingPoint
from pfdrill.detect.shape import Shape
from pfdrill.drill import pace, suite
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.interrupts import interrupts_raise
from pfdrill.drill.observer import DrillObserver
from pfdrill.drill.sequencer import Sequencer
from pfdrill.errors import EnvironmentProblem, InvalidInput, SafetyRefused
from pfdrill.faults import size
from pfdrill.faults.kind import FaultKind
from pfdrill.formats import yamldoc
from pfdrill.model.drill import DrillSpec, FaultSpec, ParamValue, SourceRef
from pfdrill.model.result import DrillResult
from pfdrill.model.sensitivity import EdgeVerdict, Sensitivity, Trial, TrialOutcome
from pfdrill.model.sla import TimingProfile, default_budgets
from pfdrill.model.timeline import Phase, PhaseStatus
from pfdrill.report import sensitivity as sensitivity_report
from pfdrill.report import writer

DEFAULT_FILE = Path("drills") / "sensitivity.yaml"
_SEARCH_KEYS = {"alert", "fault", "params", "detect", "max_injections", "resolution", "profile"}
_TOP_KEYS = {"sensitivity", "description", "defaults", "searches"}


@dataclasses.dataclass(frozen=True)
class Search:
    """One search of ``drills/sensitivity.yaml``: an alert, the fault that trips it, a budget."""

    alert: str
    fault: str
    params: dict[str, ParamValue] = dataclasses.field(default_factory=dict)
    profile: TimingProfile = TimingProfile.DRILL
    detect_s: float | None = None  # None: the default detect budget of the alert's severity
    max_injections: int = 6
    resolution: float = 0.05  # stop once the bracket is this narrow (relative)
    source: SourceRef | None = None


NOISE_STRETCHES = 20  # how many stretches of two rate windows the noise looks back over
NOISE_QUANTILE = 0.25  # the quiet quarter: a quarter of the stretches may be faults' edges


def noise_query(signal: str, *, chunk_s: float, lookback_s: float, offset: float | None) -> str:
    """PromQL for a signal's steady-state spread, for signals that count nothing.

    The signal's standard deviation is taken over each stretch of ``chunk_s``
    (a subquery stepping ``chunk_s`` over ``lookback_s``), and the ``NOISE_QUANTILE``
    of those is the answer. A stretch that holds a fault's step or its rate window
    draining has a spread many times the load's; a stretch inside a steady fault has
    the load's own. For a relative signal (``offset`` not None) each stretch's
    spread is divided by its level (the mean plus the offset: the rate over the
    baseline), giving the coefficient of variation, which does not depend on the
    fault's size.
    """
    c, w = f"{int(chunk_s)}s", f"{int(lookback_s)}s"
    per = f"stddev_over_time({signal}[{c}])"
    if offset is not None:
        per = f"{per} / ((avg_over_time({signal}[{c}]) + {offset:g}) > 0)"
    return f"quantile_over_time({NOISE_QUANTILE:g}, ({per})[{w}:{c}])"


def _number(merged: dict[str, Any], key: str, file: Path, default: float,
            line: Callable[[str], int | None], *, low: float, high: float = math.inf,
            integer: bool = False) -> float:
    value = merged.get(key, default)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
    if not ok or (integer and float(value) != int(value)):
        kind = "an integer" if integer else "a number"
        raise InvalidInput(f"{key} must be {kind} in [{low:g}, {high:g}], not {value!r}",
                           file=file, line=line(key))
    return float(value)


def _search(raw: object, defaults: dict[str, Any], file: Path, where: int | None) -> Search:
    if not isinstance(raw, dict):
        raise InvalidInput("a search is a mapping with 'alert' and 'fault'", file=file,
                           line=where)
    unknown = sorted(set(map(str, raw)) - _SEARCH_KEYS)
    if unknown:
        raise InvalidInput(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_SEARCH_KEYS))})",
                           file=file, line=yamldoc.line_of(raw, unknown[0]))
    merged = {**defaults, **raw}

    def line_of(key: str) -> int | None:
        """Where ``key`` of the search is: its own entry, or the defaults' it inherits."""
        return yamldoc.line_of(raw if key in raw else defaults, key)

    for key in ("alert", "fault"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise InvalidInput(f"a search needs '{key}'", file=file, line=yamldoc.line_of(raw))
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidInput("params must be a mapping", file=file, line=line_of("params"))
    try:
        profile = TimingProfile(str(merged.get("profile", "drill")))
    except ValueError:
        raise InvalidInput(f"unknown profile {merged.get('profile')!r}", file=file,
                           line=line_of("profile")) from None
    model = size.model(str(raw["fault"]))
    if model is None:
        raise InvalidInput(f"fault {raw['fault']} has no size to search (sizable: "
                           f"{', '.join(sorted(k.value for k in size.MODELS))})",
                           file=file, line=line_of("fault"))
    if model.param in params:
        raise InvalidInput(f"params must not set {model.param}: it is the size searched",
                           file=file, line=line_of("params"))
    try:
        model.resolve(params)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, file=file, line=line_of("params")) from None
    found = pace.physics_for(profile).table.of_alert(str(raw["alert"]))
    if found is None:
        raise InvalidInput(f"unknown alert {raw['alert']!r}", file=file, line=line_of("alert"))
    if found[2].of != model.signal:
        raise InvalidInput(f"fault {model.kind.value} moves pfdrill:{model.signal}, not "
                           f"pfdrill:{found[2].of} of {raw['alert']}", file=file,
                           line=line_of("fault"))
    detect = merged.get("detect")
    return Search(
        alert=str(raw["alert"]), fault=model.kind.value, params=dict(params), profile=profile,
        detect_s=None if detect is None else _number(merged, "detect", file, 0, line_of, low=1),
        max_injections=int(_number(merged, "max_injections", file, 6, line_of, low=1, high=50,
                                   integer=True)),
        resolution=_number(merged, "resolution", file, 0.05, line_of, low=0.001, high=1),
        source=SourceRef(str(file), yamldoc.line_of(raw)))


def load(path: Path) -> tuple[Search, ...]:
    doc = yamldoc.load(path).root
    if not isinstance(doc, dict) or not isinstance(doc.get("searches"), list):
        raise InvalidInput("a sensitivity file is a mapping with a 'searches' list", file=path,
                           line=yamldoc.line_of(doc))
    unknown = sorted(set(map(str, doc)) - _TOP_KEYS)
    if unknown:
        raise InvalidInput(f"unknown key {unknown[0]!r}", file=path,
                           line=yamldoc.line_of(doc, unknown[0]))
    defaults = doc.get("defaults")
    if defaults is None:
        defaults = {}
    if not isinstance(defaults, dict) or set(defaults) - (_SEARCH_KEYS - {"alert", "fault",
                                                                          "params"}):
        raise InvalidInput("defaults may set profile, detect, max_injections, resolution",
                           file=path, line=yamldoc.line_of(doc, "defaults"))
    where = yamldoc.line_of(doc.get("defaults")) or yamldoc.line_of(doc)
    return tuple(_search(raw, defaults, path, where) for raw in doc["searches"])


def select(searches: Sequence[Search], *, alert: str | None = None, fault: str | None = None,
           profile: TimingProfile = TimingProfile.DRILL) -> list[Search]:
    """The searches for ``alert`` and/or ``fault``; an alert the file lacks gets its fault's model."""
    kind = FaultKind.parse(fault).value if fault else None
    chosen = [s for s in searches if (alert is None or s.alert == alert)
              and (kind is None or s.fault == kind)]
    if chosen or alert is None:
        if not chosen:
            raise InvalidInput(f"no search for fault {fault!r} (see {DEFAULT_FILE})")
        return chosen
    found = pace.physics_for(profile).table.of_alert(alert)
    if found is None:
        raise InvalidInput(f"unknown alert {alert!r}")
    models = size.for_signal(found[2].of)
    if kind is not None:
        models = [m for m in models if m.kind.value == kind]
    if not models:
        raise InvalidInput(f"no sizable fault moves pfdrill:{found[2].of}, the signal of {alert}")
    return [Search(alert=alert, fault=models[0].kind.value, profile=profile)]


def loaded_rule_differs(alert: str, profile: TimingProfile, loaded: Mapping[str, str]) -> str | None:
    """Why the rule Prometheus runs for ``alert`` is not the one pfdrill reads, if it is not."""
    found = pace.physics_for(profile).table.of_alert(alert)
    if found is None:
        return f"the rule source has no alert {alert}"
    ours = " ".join(found[0].expr.split())
    theirs = loaded.get(alert)
    if theirs is None:
        return f"Prometheus has no alert {alert} loaded"
    # Prometheus prints the parsed query back; compare what it means, not how it is spelt
    same = shape.parse_condition(theirs) == shape.parse_condition(ours) is not None \
        or " ".join(theirs.split()) == ours
    if not same:
        return (f"Prometheus runs {alert} as `{' '.join(theirs.split())}` but the rule source "
                f"says `{ours}`: reload the rules (pfdrill obs reload) or point "
                "PFDRILL_ALERTS_DIR at the source Prometheus runs")
    return None


# --- the search ----------------------------------------------------------------------
class Searcher:
    """One alert's search against one drill environment."""

    def __init__(self, search: Search, env: DrillEnvironment, *, run_id: str,
                 observers: Sequence[DrillObserver] = (),
                 progress: Callable[[str], None] = lambda _m: None) -> None:
        self.search = search
        self.env = env
        self.run_id = run_id
        self.observers = tuple(observers)
        self.progress = progress
        self.p = pace.physics_for(search.profile)
        found = self.p.table.of_alert(search.alert)
        if found is None:
            raise InvalidInput(f"unknown alert {search.alert!r}")
        self.rule, self.condition, self.shape = found
        model = size.model(search.fault)
        if model is None or model.signal != self.shape.of:
            raise InvalidInput(f"fault {search.fault} does not move pfdrill:{self.shape.of}, the "
                               f"signal of {search.alert}")
        self.model = model
        table = thresholds.load()
        row = table.row(self.rule.row)
        if row is None:
            raise InvalidInput(f"alert {search.alert} names row {self.rule.row!r}, which the "
                               f"thresholds table lacks")
        self.row = row
        self.detect_s = search.detect_s or default_budgets(
            search.profile, self.rule.severity).budget(Phase.DETECT)
        spec = model.spec()
        self.limits = edge.Limits(spec.low if spec.low is not None else 0.0,
                                  spec.high if spec.high is not None else math.inf, spec.low_open)
        self.point = OperatingPoint()
        self.probe_baselines: list[dict[str, float]] = []  # what each probe's preflight published

    # -- the physics of one size ------------------------------------------------------
    def _divisor(self) -> float:
        rel = self.shape.relative
        if rel is None:
            return 1.0
        published = self.point.baselines.get(rel.baseline)
        live = self.point.rates.get(rel.of)
        return rel.divisor(published if published is not None else (live.value if live else None))

    def signal_at(self, s: float) -> float | None:
        """The alert's signal once a fault of size ``s`` fills the window."""
        raw = self.model.value_at(s, self.search.params, self.point)
        if raw is None or math.isnan(raw):
            return None
        rel = self.shape.relative
        return raw if rel is None else raw / self._divisor() - rel.offset

    def bound_at(self, s: float) -> DetectionBound:
        step = self.model.step_for({**self.search.params, self.model.param: s}, self.point)
        rel = self.shape.relative
        published = None if rel is None else self._divisor()
        return physics.bound(self.search.alert, self.condition, self.shape,
                             self.p.timing(self.rule.for_s), step, published)

    def _solve(self, holds: Callable[[float], bool]) -> float | None:
        """The smallest size in the parameter's range where ``holds`` (monotone) becomes true."""
        lo = self.limits.lowest
        hi = self.limits.high if math.isfinite(self.limits.high) else 1e6
        if not holds(hi):
            return None
        if holds(lo):
            return lo
        for _ in range(80):
            mid = math.sqrt(lo * hi)
            lo, hi = (lo, mid) if holds(mid) else (mid, hi)
        return hi

    def predicted(self) -> float:
        """Where the bound theory puts the edge: the alert fires, within the SLA."""
        def within(s: float) -> bool:
            b = self.bound_at(s)
            return b.reachable and b.earliest_s <= self.detect_s
        found = self._solve(within)
        if found is None:
            raise InvalidInput(f"no {self.model.param} of {self.search.fault} can make "
                               f"{self.search.alert} fire within {self.detect_s:g} s")
        return found

    def table_size(self) -> float | None:
        threshold = self.row.entry.value
        return self._solve(lambda s: (self.signal_at(s) or -math.inf) >= threshold)

    # -- the live part ------------------------------------------------------------------
    def _noise(self) -> float:
        """Two standard deviations of the signal at the table's threshold.

        For a signal that counts events in a window (a rate, or a ratio of two rates)
        this is the counting noise at the threshold: ``r`` events a second seen over a
        window ``W`` are a Poisson count, so the rate wanders by ``sqrt(r / W)``; a
        fraction ``p`` of ``n`` events a second by ``sqrt(p (1 - p) / (n W))``. It is
        carried through the rule's division by its published baseline. It is the noise
        no load can be quieter than, and it needs no quiet past to measure.

        The spread measured over the recent past was tried twice and was wrong twice:
        against the 1x steady state it called a 9.95x detection of a 10x rule
        "mis-set" (CI, 2026-12-03); carried to 10x as a coefficient of variation it saw
        the faults of the drills just before (drills run back to back leave no quiet
        stretch) and said ±8.1, so a rule at 20x "agreed" with the table's 10x (CI,
        2026-12-04). A gauge or a histogram's mean, which count nothing, keep the
        measured spread (:func:`noise_query`).
        """
        shape, t = self.shape, self.row.entry.value
        rel = shape.relative
        divisor = self._divisor()
        level = (t + (rel.offset if rel else 0.0)) * divisor  # the `of` rule's value at t
        window = self.p.profile.rate_window_s
        if shape.shape is Shape.RATE and level > 0:
            return 2 * math.sqrt(level / window) / divisor
        rates = self.point.rates.get(shape.of)
        if shape.shape is Shape.RATE_RATIO and rates is not None and rates.den > 0:
            p = min(max(level, 0.0), 1.0)
            return 2 * math.sqrt(p * (1 - p) / (rates.den * window)) / divisor
        return self._measured_noise()

    def judged_noise(self) -> float:
        """The noise at the threshold, for the baseline the probes ran against.

        Each probe's preflight published a fresh baseline from a steady state; the
        median of those is the divisor. The search's starting point may be a fabric
        whose traffic is still starting (a fresh cluster: 0.14 rejects/s rising to
        0.66), and a divisor that small made the counting noise ±3.65 at 10x.
        """
        names = {k for b in self.probe_baselines for k in b}
        medians = {k: statistics.median(b[k] for b in self.probe_baselines if k in b)
                   for k in names}
        start = self.point
        self.point = dataclasses.replace(start, baselines={**start.baselines, **medians})
        try:
            return self._noise()
        finally:
            self.point = start

    def _measured_noise(self) -> float:
        prof = self.p.profile
        chunk = 2 * prof.rate_window_s
        lookback = max(prof.baseline_window_s, NOISE_STRETCHES * chunk)
        rel = self.shape.relative
        spread = self.env.metrics.instant(noise_query(
            f"pfdrill:{self.shape.signal}", chunk_s=chunk, lookback_s=lookback,
            offset=None if rel is None else rel.offset))
        if spread is None or not math.isfinite(spread):
            return 0.0
        if rel is None:
            return 2 * spread
        now = self.env.metrics.instant(f"avg_over_time(pfdrill:{self.shape.signal}[{int(chunk)}s])")
        level = 0.0 if now is None or not math.isfinite(now) else now + rel.offset
        return 2 * spread * max(self.row.entry.value + rel.offset, level)

    def _probe(self, index: int, s: float) -> Trial:
        search, model = self.search, self.model
        spec = DrillSpec(
            name=f"{search.alert}-{index}-{model.param}-{s:.4g}",
            fault=FaultSpec(search.fault, {**search.params, model.param: round(s, 6)}),
            expected_severity=self.rule.severity, profile=search.profile,
            sla=default_budgets(search.profile, self.rule.severity).merged({"detect": self.detect_s}),
            expected_alerts=(search.alert,),
            description=f"sensitivity of {search.alert}: {search.fault} at {model.param}={s:.4g}",
            source=search.source)
        seq = Sequencer(spec, self.env, run_id=self.run_id, observers=self.observers)
        try:
            with interrupts_raise():
                # the front of a drill: preflight (Lease, steady state, a fresh baseline),
                # inject, detect; a failed preflight or injection ends the probe
                for op in (seq.preflight, seq.inject, seq.detect):
                    if not op().status.ok:
                        break
        finally:
            result = seq.close()  # restore, always; an interrupt goes on after it
        if isinstance(seq.error, EnvironmentProblem | SafetyRefused):
            raise seq.error
        if result.evidence.baseline:
            self.probe_baselines.append({b.name: b.value for b in result.evidence.baseline})
        return self._trial(s, spec.name, result)

    def _trial(self, s: float, name: str, result: DrillResult) -> Trial:
        # The probe's own bound (its baseline and operating point at its injection) when it
        # saw the alert; else this size's bound at the search's starting point.
        seen = next((a.bound_s for a in result.evidence.alerts
                     if a.alert == self.search.alert and a.bound_s is not None), None)
        b = self.bound_at(s)
        bound_s = seen if seen is not None else (round(b.earliest_s, 3) if b.reachable else None)

        def trial(outcome: TrialOutcome, mttd: float | None = None, reason: str = "") -> Trial:
            return Trial(size=s, signal=self.signal_at(s), outcome=outcome, mttd_s=mttd,
                         bound_s=bound_s, drill=name, reason=reason)

        for phase in (Phase.PREFLIGHT, Phase.INJECT):
            rec = result.phase(phase)
            if rec is None or rec.status is not PhaseStatus.PASSED:
                return trial(TrialOutcome.ERROR, reason=f"{phase.value}: "
                                                   f"{rec.reason if rec else 'did not run'}")
        mttd = result.measures.mttd
        if mttd is not None and mttd <= self.detect_s:
            return trial(TrialOutcome.DETECTED, mttd)
        detect = result.phase(Phase.DETECT)
        return trial(TrialOutcome.MISSED, mttd, detect.reason if detect else "")

    def run(self) -> Sensitivity:
        search = self.search
        self.point = pace.operating_point(self.env.metrics, self.p, [self.shape.of],
                                          self.env.clock.now(), ())
        predicted = self.predicted()
        self.progress(f"{search.alert}: {search.fault} by {self.model.param}; the bound theory "
                      f"puts the edge at {predicted:.4g}{self.model.unit} (rule {self.condition}, "
                      f"SLA {self.detect_s:g} s)")
        trials: list[Trial] = []
        while len(trials) < search.max_injections:
            done = [(t.size, t.outcome is TrialOutcome.DETECTED) for t in trials
                    if t.outcome is not TrialOutcome.ERROR]
            nxt = edge.next_size(done, predicted, self.limits, resolution=search.resolution)
            if nxt is None:
                break
            trial = self._probe(len(trials) + 1, nxt)
            trials.append(trial)
            mttd = f" in {trial.mttd_s:.1f} s" if trial.mttd_s is not None else ""
            self.progress(f"  {self.model.param}={nxt:.4g}: {trial.outcome.value}{mttd}"
                          + (f" (bound {trial.bound_s:.1f} s)" if trial.bound_s is not None else ""))
            if trial.outcome is TrialOutcome.ERROR:
                break
        noise = self.judged_noise()
        verdict, message = self.judge(trials, noise)
        return Sensitivity(
            alert=search.alert, fault=search.fault, param=self.model.param, unit=self.model.unit,
            signal=self.shape.signal, rule=str(self.condition), row=self.row.id,
            table_threshold=self.row.entry.value, table_size=self.table_size(),
            detect_s=self.detect_s, predicted_size=predicted, noise=noise, trials=tuple(trials),
            verdict=verdict, message=message, bound_curve=self.curve(trials, predicted))

    def curve(self, trials: Sequence[Trial], predicted: float, points: int = 48
              ) -> tuple[tuple[float, float], ...]:
        sizes = [t.size for t in trials] + [predicted]
        lo = max(min(sizes) * 0.7, self.limits.lowest)
        hi = min(max(sizes) * 1.4, self.limits.high)
        out = []
        for i in range(points + 1):
            s = lo * (hi / lo) ** (i / points)
            b = self.bound_at(s)
            if b.reachable:
                out.append((round(s, 6), round(b.earliest_s, 3)))
        return tuple(out)

    def judge(self, trials: Sequence[Trial], noise: float) -> tuple[EdgeVerdict, str]:
        """Compare the measured edge (signal units) with the table's threshold, noise allowed."""
        t = self.row.entry.value
        unit = self.row.indicator.spec.unit if self.row.indicator.spec.unit in ("x", "/s") else ""
        missed = max((x for x in trials if x.outcome is TrialOutcome.MISSED), key=lambda x: x.size,
                     default=None)
        detected = min((x for x in trials if x.outcome is TrialOutcome.DETECTED),
                       key=lambda x: x.size, default=None)
        table = f"the table's {t:g}{unit} ({self.row.id}, noise ±{noise:.3g})"
        vm = None if missed is None else missed.signal
        vd = None if detected is None else detected.signal
        if vm is not None and vd is not None and missed is not None and detected is not None:
            if missed.size >= detected.size:
                return EdgeVerdict.INCONCLUSIVE, (
                    f"missed at {vm:.4g}{unit} but detected at {vd:.4g}{unit}: the edge is "
                    f"within the noise there")
            lo, hi = min(vm, vd), max(vm, vd)
            spread = max(abs(lo - t), abs(hi - t)) / t * 100 if t else math.inf
            if lo - noise <= t <= hi + noise:
                return EdgeVerdict.AGREES, (
                    f"detection edge between {lo:.4g}{unit} (missed) and {hi:.4g}{unit} "
                    f"(detected): within ±{spread:.0f}% of {table}; the threshold agrees")
            middle = (lo + hi) / 2
            return EdgeVerdict.MIS_SET, (
                f"detection edge between {lo:.4g}{unit} and {hi:.4g}{unit}, {table}: off by "
                f"{(middle - t) / t * 100:+.0f}%, more than the noise: the threshold is mis-set")
        if vd is not None and t > vd + noise:
            return EdgeVerdict.MIS_SET, (f"detected at {vd:.4g}{unit}, below {table}: the alert "
                                         "fires on faults the table does not count; mis-set")
        if vm is not None and t < vm - noise:
            return EdgeVerdict.MIS_SET, (f"missed at {vm:.4g}{unit}, above {table}: the alert "
                                         "misses faults the table counts; mis-set")
        errors = [x for x in trials if x.outcome is TrialOutcome.ERROR]
        if errors:
            return EdgeVerdict.INCONCLUSIVE, f"a probe could not be carried out: {errors[-1].reason}"
        return EdgeVerdict.INCONCLUSIVE, (f"no bracket around {table} within "
                                          f"{self.search.max_injections} injections")


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    results: tuple[Sensitivity, ...]
    report_dir: Path


def run(searches: Sequence[Search], env: DrillEnvironment, *, reports: Path, run_id: str,
        observers: Sequence[DrillObserver] = (),
        progress: Callable[[str], None] = lambda _m: None) -> RunOutcome:
    """Every search in turn; the probes' drill reports and the sensitivity report in one folder.

    The folder (``reports/<run-id>/``) is rewritten after every search, so an
    interrupted run still leaves what it found.
    """
    out = reports / run_id
    record = suite.SuiteRecorder(run_id=run_id, suite="sensitivity", file=str(DEFAULT_FILE),
                                 writers=[writer.ReportWriter(out)])
    results: list[Sensitivity] = []
    for search in searches:
        searcher = Searcher(search, env, run_id=run_id, observers=[*observers, record],
                            progress=progress)
        results.append(searcher.run())
        sensitivity_report.write(out, results, run_id)
    return RunOutcome(tuple(results), out)
