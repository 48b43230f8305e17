"""The detection bound against the real promtool: alerts first fire when the step model says.

For every signal shape the rules use (a gauge, a rate above zero, a rate above a
number, a rate against its published baseline, a band, a ratio of two rates, a
histogram mean) and several fault sizes, the fault's step (from the real fault
size models, :mod:`pfdrill.faults.size`) is written as promtool input series
scraped every ``scrape_interval``, the real rules are rendered for the profile,
and promtool is asked whether the alert fires one evaluation before the time
:func:`pfdrill.detect.bound.first_firing` predicts (it must not) and at it (it
must). The prediction must also lie between the bound's earliest firing time and
the healthy pipeline's latest, which is what reports compare MTTD with.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import yaml

from pfdrill.detect import bound, shape
from pfdrill.detect.bound import OperatingPoint, Rates, Step, Timing
from pfdrill.faults import size
from pfdrill.faults.kind import FaultKind
from pfdrill.formats import duration
from pfdrill.model.drill import ParamValue
from pfdrill.obs import profile as profiles
from pfdrill.obs import promtool, rules

W = 'job="sidecar-watcher", instance="w0"'
# Which counters carry a windowed signal's numerator and denominator in the test series
# (what the fabric exports): (numerator counter, denominator counter or "", verified-style).
COUNTERS: dict[str, tuple[str, str]] = {
    "reject_rate": (f'permit_rejects_total{{{W}, reason="permit"}}', ""),
    "latency_mean_seconds": (f"monitor_duration_seconds_sum{{{W}}}",
                             f"monitor_duration_seconds_count{{{W}}}"),
    "witness_failure_ratio": (f"witness_validation_failures_total{{{W}}}",
                              f"witness_validations_total{{{W}}}"),
    "adapter_error_ratio": (f'policy_adapter_errors_total{{{W}, kind="timeout"}}',
                            f"requests_total{{{W}}}"),
    "ni_reject_rate": (f"ni_monitor_rejects_total{{{W}}}", ""),
    "dfa_load_failure_rate": (f'dfa_load_failures_total{{{W}, reason="sha256"}}', ""),
}
GAUGES = {
    "enforcement_disabled": f'enforcement_mode{{{W}, mode="disabled"}}',
    "bridge_guarantee_ok": f"bridge_guarantee_local_checks_ok{{{W}}}",
}


@dataclasses.dataclass(frozen=True)
class Case:
    alert: str
    profile: str
    step: Step
    published: dict[str, float] = dataclasses.field(default_factory=dict)
    label: str = ""

    @property
    def name(self) -> str:
        return f"{self.profile}-{self.alert}-{self.label}"


def _sized(kind: FaultKind, params: dict[str, ParamValue], point: OperatingPoint) -> Step:
    model = size.MODELS[kind]
    made = model.step_for(params, point)
    assert made is not None
    return made


def _cases() -> list[Case]:
    quiet_rejects = OperatingPoint({"reject_rate": Rates(1.0)}, {"reject_rate": 1.0})
    below_floor = OperatingPoint({"reject_rate": Rates(0.05)}, {"reject_rate": 0.05})
    latency = OperatingPoint({"latency_mean_seconds": Rates(0.006 * 20, 20)},
                             {"latency_mean_seconds": 0.006})
    witness = OperatingPoint({"witness_failure_ratio": Rates(0.2, 20)})
    certs = OperatingPoint({"cert_failure_ratio": Rates(0.05, 20)})
    adapter = OperatingPoint({"adapter_error_ratio": Rates(0.0, 20)})
    ni = OperatingPoint({"ni_reject_rate": Rates(0.2)})
    out = [
        Case("PolicyEnforcementDisabled", "drill", Step(Rates(0), Rates(1)), label="gauge-up"),
        Case("BridgeGuaranteeFailure", "drill", Step(Rates(1), Rates(0)), label="gauge-down"),
        Case("PolicyEnforcementDisabled", "production", Step(Rates(0), Rates(1)), label="gauge-up"),
        Case("DfaArtifactRefused", "drill", Step(Rates(0), Rates(0.05)), label="rate-above-zero"),
    ]
    for rate in (1.5, 3.0, 10.0):
        out.append(Case("NiMonitorRejects", "drill",
                        _sized(FaultKind.NI_REJECT_BURST, {"rate": rate}, ni), label=f"r{rate:g}"))
    for m in (12.0, 20.0, 50.0):
        out.append(Case("RejectRateSpikeHigh", "drill",
                        _sized(FaultKind.HIGH_REJECT_RATE, {"multiplier": m}, quiet_rejects),
                        {"reject_rate": 1.0}, f"m{m:g}"))
    out.append(Case("RejectRateSpikeHigh", "drill",
                    _sized(FaultKind.HIGH_REJECT_RATE, {"multiplier": 15.0}, below_floor),
                    {"reject_rate": 0.05}, "m15-floored"))
    out.append(Case("RejectRateSpikeHigh", "production",
                    _sized(FaultKind.HIGH_REJECT_RATE, {"multiplier": 12.0}, quiet_rejects),
                    {"reject_rate": 1.0}, "m12"))
    for m in (4.0, 12.0):  # the 2-10x band: entered, and for 12x passed through
        out.append(Case("RejectRateSpikeMedium", "drill",
                        _sized(FaultKind.HIGH_REJECT_RATE, {"multiplier": m}, quiet_rejects),
                        {"reject_rate": 1.0}, f"m{m:g}"))
    for pct in (60.0, 100.0, 300.0):
        out.append(Case("PerformanceDegradationHigh", "drill",
                        _sized(FaultKind.PERFORMANCE_DEGRADATION, {"percent": pct}, latency),
                        {"latency_mean_seconds": 0.006}, f"p{pct:g}"))
    out.append(Case("PerformanceDegradationMedium", "drill",
                    _sized(FaultKind.PERFORMANCE_DEGRADATION, {"percent": 35.0}, latency),
                    {"latency_mean_seconds": 0.006}, "p35"))
    for fraction in (0.2, 0.5, 1.0):
        out.append(Case("WitnessValidationFailures", "drill",
                        _sized(FaultKind.WITNESS_FAILURES, {"fraction": fraction, "rate": 20}, witness),
                        label=f"f{fraction:g}"))
    for fraction in (0.1, 0.5):
        out.append(Case("CertificateVerificationFailures", "drill",
                        _sized(FaultKind.CERTIFICATE_CORRUPTION, {"fraction": fraction, "rate": 10}, certs),
                        label=f"f{fraction:g}"))
    for share in (0.05, 0.3):
        out.append(Case("PolicyAdapterErrors", "drill",
                        _sized(FaultKind.ADAPTER_FAILURE, {"error_rate": share}, adapter),
                        label=f"e{share:g}"))
    return out


CASES = _cases()


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _series(case: Case, sig: shape.SignalShape, step_at: float, horizon: float,
            timing: Timing) -> list[dict[str, str]]:
    s = timing.scrape_s
    n = int(horizon // s) + 1
    out: list[dict[str, str]] = []
    if not sig.shape.windowed:
        values = [case.step.after.num if k * s >= step_at else case.step.before.num for k in range(n)]
        out.append({"series": GAUGES[sig.signal], "values": " ".join(_fmt(v) for v in values)})
    else:
        num = bound.counter_samples(case.step.before.num, case.step.after.num, step_at, 10_000.0,
                                    horizon, s)
        den = bound.counter_samples(case.step.before.den, case.step.after.den, step_at, 10_000.0,
                                    horizon, s)
        if sig.of == "cert_failure_ratio":  # certs_total and the verified ones, not the failures
            out.append({"series": f"certs_total{{{W}}}", "values": " ".join(_fmt(v) for _, v in den)})
            out.append({"series": f"certs_verified_total{{{W}}}",
                        "values": " ".join(_fmt(d - f) for (_, f), (_, d) in zip(num, den, strict=True))})
        else:
            numerator, denominator = COUNTERS[sig.of]
            out.append({"series": numerator, "values": " ".join(_fmt(v) for _, v in num)})
            if denominator:
                out.append({"series": denominator, "values": " ".join(_fmt(v) for _, v in den)})
    for signal, value in case.published.items():
        out.append({"series": f'pfdrill_baseline{{job="pfdrill-sink", instance="sink", signal="{signal}"}}',
                    "values": f"{_fmt(value)}+0x{n}"})
    return out


@dataclasses.dataclass(frozen=True)
class Prediction:
    case: Case
    fires_at: float
    silent_file: Path
    firing_file: Path
    earliest_s: float
    healthy_s: float
    step_at: float


def _predict(case: Case, rendered: Path, table: shape.ShapeTable, directory: Path) -> Prediction:
    prof = profiles.get(case.profile)
    found = table.of_alert(case.alert)
    assert found is not None
    rule, condition, sig = found
    timing = Timing(prof.scrape_interval_s, prof.evaluation_interval_s, prof.rate_window_s,
                    rule.for_s, prof.group_wait_s)
    # a step between scrapes, after a full window of steady history
    step_at = prof.rate_window_s + 7.3 * prof.scrape_interval_s / 10 + 2 * prof.scrape_interval_s
    published = case.published.get(sig.relative.baseline) if sig.relative else None
    b = bound.bound(case.alert, condition, sig, timing, case.step, published)
    assert b.reachable, f"{case.name}: {b.describe()}"
    horizon = step_at + b.healthy_s + timing.window_s + 10 * timing.evaluation_s
    comparisons = bound.raw_comparisons(condition, sig, published)
    fires = bound.first_firing(case.step, comparisons, timing, step_at, horizon=horizon,
                               gauge=not sig.shape.windowed)
    assert fires is not None, f"{case.name}: the replay never fires"
    series = _series(case, sig, step_at, horizon, timing)

    def write(at: float, suffix: str) -> Path:
        doc = {"rule_files": [str(rendered)],
               "evaluation_interval": duration.text(timing.evaluation_s),
               "tests": [{"interval": duration.text(timing.scrape_s), "input_series": series,
                          "alert_rule_test": [{"eval_time": duration.text(at),
                                               "alertname": case.alert, "exp_alerts": []}]}]}
        path = directory / f"{case.name}-{suffix}.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return path

    return Prediction(case, fires, write(fires - timing.evaluation_s, "silent"),
                      write(fires, "firing"), b.earliest_firing_s, b.healthy_s - timing.group_wait_s,
                      step_at)


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Prediction], promtool.RuleTestRun]:
    base = tmp_path_factory.mktemp("bound-promtool")
    source = rules.alerts_dir() / rules.RULES_FILE
    rendered, tables = {}, {}
    for name in ("drill", "production"):
        rendered[name] = rules.render_to(base / name, profiles.get(name), source)
        tables[name] = shape.load(rules.load(rendered[name]))
    predictions = [_predict(c, rendered[c.profile], tables[c.profile], base / c.profile)
                   for c in CASES]
    files = [f for p in predictions for f in (p.silent_file, p.firing_file)]
    return predictions, promtool.run_tests(files)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c.name for c in CASES])
def test_promtool_fires_when_the_step_model_says(
        index: int, verdicts: tuple[list[Prediction], promtool.RuleTestRun]) -> None:
    predictions, run = verdicts
    p = predictions[index]
    # exp_alerts is empty: a file passes exactly when the alert is not firing then
    assert run.passed[p.silent_file], f"{p.case.name}: already firing before {p.fires_at:g}s\n{run.output}"
    assert not run.passed[p.firing_file], f"{p.case.name}: not firing at {p.fires_at:g}s"
    after = p.fires_at - p.step_at
    assert p.earliest_s - 1e-6 <= after <= p.healthy_s + 1e-6, (
        f"{p.case.name}: fired {after:.2f}s after the step, outside "
        f"[{p.earliest_s:.2f}, {p.healthy_s:.2f}]")


def test_the_cases_cover_every_shape_the_rules_use() -> None:
    table = shape.load(rules.parse(rules.render(rules.alerts_dir() / rules.RULES_FILE,
                                                profiles.get("drill")), "rules.yml"))
    used = {table.signals[c.signal].shape for _, c in table.alerts.values()}
    tested = {table.signals[table.alerts[c.alert][1].signal].shape for c in CASES}
    assert used == tested == set(shape.Shape)
    assert any(len(table.alerts[c.alert][1].comparisons) == 2 for c in CASES)  # a band
    assert not any(math.isnan(c.step.after.value) for c in CASES)
