"""``pfdrill sensitivity`` on the fake world: probes are drills, the edge is judged against the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pfdrill.cli import main
from pfdrill.drill import fake
from pfdrill.drill import sensitivity as search
from pfdrill.drill.environment import LEASE_NAME, DrillEnvironment
from pfdrill.errors import InvalidInput
from pfdrill.model.sensitivity import EdgeVerdict, Trial, TrialOutcome
from pfdrill.model.sla import TimingProfile
from pfdrill.report import sensitivity as report

REPO = Path(__file__).resolve().parents[3]
FILE = REPO / "drills" / "sensitivity.yaml"


def reject_search() -> search.Search:
    (found,) = search.select(search.load(FILE), alert="RejectRateSpikeHigh")
    return found


def test_the_shipped_file_covers_the_ratio_rows_of_the_table() -> None:
    searches = search.load(FILE)
    assert {s.alert for s in searches} == {
        "RejectRateSpikeHigh", "RejectRateSpikeMedium", "PerformanceDegradationHigh",
        "PerformanceDegradationMedium", "WitnessValidationFailures",
        "CertificateVerificationFailures", "PolicyAdapterErrors"}
    assert all(s.detect_s == 45 and s.max_injections == 6 for s in searches)


def test_the_fake_fabric_s_10x_edge_agrees_with_the_table(tmp_path: Path, world: fake.FakeWorld,
                                                         env: DrillEnvironment) -> None:
    # The fake raises RejectRateSpikeHigh for multipliers above 10, as the rule does.
    said: list[str] = []
    outcome = search.run([reject_search()], env, reports=tmp_path, run_id="s1", progress=said.append)
    (r,) = outcome.results
    assert r.verdict is EdgeVerdict.AGREES, r.message
    sizes = [round(t.size, 2) for t in r.trials]
    assert sizes[:2] == [11.0, 9.0] and len(sizes) <= 6  # the prediction (10x), +-10 %
    assert r.largest_missed is not None and r.smallest_detected is not None
    assert r.largest_missed.size < 10 < r.smallest_detected.size
    assert r.message.startswith("detection edge between ") and "the threshold agrees" in r.message
    assert "the bound theory puts the edge at 10x" in said[0]
    assert all(t.bound_s is not None for t in r.trials if t.outcome is TrialOutcome.DETECTED)
    # every probe is a drill: preflight (lease), inject, detect, then restore; nothing else
    drills = json.loads((outcome.report_dir / "evidence.json").read_text())["suite"]["results"]
    assert len(drills) == len(r.trials)
    for d in drills:
        phases = {p["phase"]: p["status"] for p in d["phases"]}
        assert list(phases) == ["preflight", "inject", "detect", "restore"]
        assert phases["preflight"] == phases["inject"] == phases["restore"] == "passed"
        assert any(f"lease production/{LEASE_NAME} acquired" in e["message"] for e in d["timeline"])
    assert world.cluster.leases == {}  # released after every probe
    html = (outcome.report_dir / report.HTML).read_text()
    assert "<svg" in html and 'class="curve bound"' in html and "agrees" in html
    doc = json.loads((outcome.report_dir / report.JSON).read_text())
    assert doc["results"][0]["verdict"] == "agrees"
    assert "RejectRateSpikeHigh: high_reject_rate by multiplier" in report.text(outcome.results)


def _trial(size: float, outcome: TrialOutcome) -> Trial:
    return Trial(size=size, signal=size, outcome=outcome)


@pytest.mark.parametrize(("trials", "verdict", "words"), [
    ([_trial(22, TrialOutcome.DETECTED), _trial(18.5, TrialOutcome.MISSED)], EdgeVerdict.MIS_SET,
     "off by +102%"),
    ([_trial(11, TrialOutcome.DETECTED), _trial(9.95, TrialOutcome.MISSED)], EdgeVerdict.AGREES,
     "within ±10% of the table's 10x"),
    ([_trial(7, TrialOutcome.DETECTED)], EdgeVerdict.MIS_SET, "below the table's 10x"),
    ([_trial(14, TrialOutcome.MISSED)], EdgeVerdict.MIS_SET, "above the table's 10x"),
    ([_trial(11, TrialOutcome.DETECTED)], EdgeVerdict.INCONCLUSIVE, "no bracket"),
    ([_trial(11, TrialOutcome.ERROR)], EdgeVerdict.INCONCLUSIVE, "could not be carried out"),
])
def test_the_edge_is_judged_against_the_table_with_the_noise(
        trials: list[Trial], verdict: EdgeVerdict, words: str, env: DrillEnvironment) -> None:
    searcher = search.Searcher(reject_search(), env, run_id="j")
    got, message = searcher.judge(trials, noise=0.4)
    assert got is verdict and words in message, message


def test_noise_wider_than_the_miss_keeps_a_close_edge_in_agreement(env: DrillEnvironment) -> None:
    searcher = search.Searcher(reject_search(), env, run_id="j")
    got, _ = searcher.judge([_trial(10.8, TrialOutcome.DETECTED), _trial(10.4, TrialOutcome.MISSED)], 0.5)
    assert got is EdgeVerdict.AGREES


@pytest.mark.parametrize(("text", "message", "line"), [
    ("searches:\n  - {alert: RejectRateSpikeHigh, fault: high_reject_rate, speed: 3}\n",
     "unknown key 'speed'", 2),
    ("searches:\n  - alert: RejectRateSpikeHigh\n    fault: high_reject_rate\n"
     "    params: {multiplier: 3}\n", "params must not set multiplier", 4),
    ("searches:\n  - {alert: RejectRateSpikeHigh, fault: enforcement_disabled}\n",
     "fault enforcement_disabled has no size to search", 2),
    ("searches:\n  - alert: RejectRateSpikeHigh\n    fault: witness_failures\n",
     "fault witness_failures moves pfdrill:witness_failure_ratio, not pfdrill:reject_rate", 3),
    ("defaults: {detect: -1}\nsearches:\n  - {alert: RejectRateSpikeHigh, fault: high_reject_rate}\n",
     "detect must be a number", 1),
])
def test_a_bad_sensitivity_file_names_file_and_line(tmp_path: Path, text: str, message: str,
                                                    line: int) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        search.load(path)
    assert message in caught.value.message and caught.value.line == line


def test_the_cli_refuses_a_bad_file_before_any_cluster(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("searches:\n  - {alert: NoSuchAlert, fault: high_reject_rate}\n")
    assert main(["sensitivity", "--file", str(path), "--name", "nowhere"]) == 2
    assert f"{path}:2: unknown alert 'NoSuchAlert'" in capsys.readouterr().err


def test_an_alert_the_file_lacks_gets_the_fault_that_moves_its_signal() -> None:
    (found,) = search.select(search.load(FILE), alert="NiMonitorRejects")
    assert (found.fault, found.detect_s) == ("ni_reject_burst", None)
    with pytest.raises(InvalidInput, match="no sizable fault moves pfdrill:dfa_integrity_ok"):
        search.select((), alert="DfaIntegrityFailure")


def test_a_rule_prometheus_runs_differently_is_named() -> None:
    why = search.loaded_rule_differs("RejectRateSpikeHigh", TimingProfile.DRILL,
                                     {"RejectRateSpikeHigh": "pfdrill:reject_rate_ratio > 20"})
    assert why is not None and "`pfdrill:reject_rate_ratio > 20`" in why and "> 10`" in why
    assert search.loaded_rule_differs("RejectRateSpikeHigh", TimingProfile.DRILL,
                                      {"RejectRateSpikeHigh": "pfdrill:reject_rate_ratio  >  10"}) is None



def test_a_rate_s_noise_is_its_counting_noise_at_the_threshold(env: DrillEnvironment) -> None:
    from pfdrill.detect.bound import OperatingPoint, Rates
    searcher = search.Searcher(reject_search(), env, run_id="n")
    # the drill cluster's steady state: 0.66 rejects/s, published as the baseline
    searcher.point = OperatingPoint({"reject_rate": Rates(0.66)}, {"reject_rate": 0.66})
    window = searcher.p.profile.rate_window_s
    noise = searcher._noise()
    # at 10x: 6.6 rejects/s over the window is a Poisson count, carried through the division
    assert noise == pytest.approx(2 * (6.6 / window) ** 0.5 / 0.66)
    # CI, 2026-12-03: 9.95x detected and 9.463x missed against 10x agrees
    got, message = searcher.judge([_trial(11, TrialOutcome.DETECTED), _trial(9, TrialOutcome.MISSED),
                                   _trial(9.95, TrialOutcome.DETECTED),
                                   _trial(9.463, TrialOutcome.MISSED)], noise)
    assert got is EdgeVerdict.AGREES, message
    # CI, 2026-12-04: a rule at 20x (18x missed, 22x detected) is mis-set against 10x; the
    # spread measured over the drills just before (±8.1) had called it "agrees"
    got, message = searcher.judge([_trial(22, TrialOutcome.DETECTED),
                                   _trial(18, TrialOutcome.MISSED)], noise)
    assert got is EdgeVerdict.MIS_SET, message
    assert searcher.judge([_trial(22, TrialOutcome.DETECTED), _trial(18, TrialOutcome.MISSED)],
                          8.14)[0] is EdgeVerdict.AGREES


def test_a_ratio_of_rates_has_binomial_noise(env: DrillEnvironment) -> None:
    from pfdrill.detect.bound import OperatingPoint, Rates
    (found,) = search.select(search.load(FILE), alert="WitnessValidationFailures")
    searcher = search.Searcher(found, env, run_id="n")
    t = searcher.row.entry.value
    searcher.point = OperatingPoint({searcher.shape.of: Rates(0.0, 20.0)})
    window = searcher.p.profile.rate_window_s
    assert searcher.shape.relative is None
    assert searcher._noise() == pytest.approx(2 * (t * (1 - t) / (20.0 * window)) ** 0.5)


def _noise_series(scrape_s: int) -> list[float]:
    """20 min of a ratio at 1x ±2 %, ending with a 20x fault and its rate window draining:
    what a search started right after another drill's probe sees (CI, 2026-12-04)."""
    def jitter(level: float, n: int) -> list[float]:
        return [level * (1.02 if i % 2 else 0.98) for i in range(n)]
    ramp = 30 // scrape_s
    clean = jitter(1.0, (20 * 60 - 150) // scrape_s)
    up = [1 + 19 * (i + 1) / ramp for i in range(ramp)]
    down = [20 - 19 * (i + 1) / ramp for i in range(ramp)]
    return clean + up + jitter(20.0, 75 // scrape_s) + down + jitter(1.0, 15 // scrape_s)


def test_the_noise_is_the_load_s_jitter_even_right_after_another_drill_s_fault(
        tmp_path: Path) -> None:
    # Against the real promtool: the one stddev over the baseline window sees the fault
    # (the spread that let a rule at 20x "agree" with the table's 10x); the quiet quarter
    # of the short stretches is the load's 2 %.
    from pfdrill.obs import profile as profiles
    from pfdrill.obs import promtool

    prof = profiles.get("drill")
    scrape = int(prof.scrape_interval_s)
    signal = "pfdrill:reject_rate_ratio"
    values = _noise_series(scrape)
    end = f"{(len(values) - 1) * scrape}s"
    chunk = 2 * prof.rate_window_s
    robust = search.noise_query(signal, chunk_s=chunk, offset=0.0,
                                lookback_s=max(prof.baseline_window_s, search.NOISE_STRETCHES * chunk))
    w = f"{int(prof.baseline_window_s)}s"
    single = f"stddev_over_time({signal}[{w}]) / avg_over_time({signal}[{w}])"
    test = {"evaluation_interval": f"{scrape}s", "tests": [{
        "interval": f"{scrape}s",
        "input_series": [{"series": signal, "values": " ".join(f"{v:.6g}" for v in values)}],
        "promql_expr_test": [
            {"expr": f"(({robust}) > bool 0.015) * (({robust}) < bool 0.03)", "eval_time": end,
             "exp_samples": [{"labels": "{}", "value": 1}]},
            {"expr": f"({single}) > bool 0.3", "eval_time": end,
             "exp_samples": [{"labels": "{}", "value": 1}]},
        ]}]}
    path = tmp_path / "noise_test.yml"
    path.write_text(json.dumps(test))
    run = promtool.run_tests([path])
    assert run.ok, run.output


def test_the_judged_noise_uses_the_baseline_the_probes_published(env: DrillEnvironment) -> None:
    # a fresh cluster: the search started while traffic was still rising (0.05 rejects/s);
    # its probes ran against 0.66/s, and the noise at 10x is theirs (±3.65 before)
    from pfdrill.detect.bound import OperatingPoint, Rates
    searcher = search.Searcher(reject_search(), env, run_id="n")
    start = OperatingPoint({"reject_rate": Rates(0.05)}, {})
    searcher.point = start
    searcher.probe_baselines = [{"reject_rate": 0.64}, {"reject_rate": 0.66}, {"reject_rate": 0.7}]
    window = searcher.p.profile.rate_window_s
    assert searcher.judged_noise() == pytest.approx(2 * (6.6 / window) ** 0.5 / 0.66)
    assert searcher.point is start
