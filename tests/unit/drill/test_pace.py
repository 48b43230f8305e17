"""A drill records each alert's physical bound and flags MTTD far above it as a slow pipeline."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from pfdrill.detect.bound import Rates
from pfdrill.drill import engine, fake, pace
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.model.drill import DrillSpec, FaultSpec, SuiteSpec
from pfdrill.model.evidence import Signal
from pfdrill.model.result import DrillResult, Verdict
from pfdrill.model.sla import TimingProfile
from pfdrill.model.timeline import EventKind, Phase, PhaseStatus
from pfdrill.settings.config import Config


def run(spec: DrillSpec, env: DrillEnvironment) -> DrillResult:
    return engine.Drill(spec, env, run_id="t1").run()


def test_a_drill_records_mttd_bound_and_gap(fail_open: DrillSpec, env: DrillEnvironment,
                                            world: fake.FakeWorld) -> None:
    world.detect_delay_s, world.notify_delay_s = 2.5, 1.0
    result = run(fail_open, env)
    pace_ = result.evidence.pace
    assert pace_ is not None
    # a rate above zero from a quiet start: for 2 s + group_wait 1 s, no window to fill
    # healthy: + a scrape, an evaluation, and an open group's 2 s interval over group_wait 1 s
    assert (pace_.alert, pace_.bound_s, pace_.healthy_s) == ("PolicyAdapterFailingOpen", 3.0, 6.0)
    assert pace_.mttd_s == result.measures.mttd == pytest.approx(3.3)
    assert pace_.gap_s == pytest.approx(0.3) and not pace_.slow
    (alert,) = [a for a in result.evidence.alerts if a.alert == "PolicyAdapterFailingOpen"]
    assert alert.bound_s == 3.0 and alert.bound_note.endswith("group_wait 1 s = 3.0 s")
    assert result.verdict is Verdict.PASSED


def test_mttd_beyond_bound_plus_margin_is_a_slow_pipeline_warning(
        fail_open: DrillSpec, env: DrillEnvironment, world: fake.FakeWorld) -> None:
    world.detect_delay_s, world.notify_delay_s = 8.0, 2.0  # 9.8 s against a 3 s bound
    result = run(fail_open, env)
    assert result.evidence.pace is not None and result.evidence.pace.slow
    assert result.verdict is Verdict.PASSED  # a warning, not a failure, unless configured
    detect = result.phase(Phase.DETECT)
    assert detect is not None and "warning: slow detection pipeline" in detect.reason
    assert any(e.kind is EventKind.NOTE and "slow detection pipeline" in e.message
               for e in result.timeline)


def test_a_slow_pipeline_fails_detection_when_configured(
        fail_open: DrillSpec, env: DrillEnvironment, world: fake.FakeWorld) -> None:
    world.detect_delay_s, world.notify_delay_s = 8.0, 2.0
    strict = dataclasses.replace(env, config=dataclasses.replace(
        env.config, slow_detection_fails=True, slow_detection_margin_s=5.0))
    result = run(fail_open, strict)
    detect = result.phase(Phase.DETECT)
    assert detect is not None and detect.status is PhaseStatus.FAILED
    assert "slow detection pipeline: PolicyAdapterFailingOpen: MTTD 9.8 s, bound 3.0 s, " \
           "gap +6.8 s (margin 5 s)" in detect.reason


def test_the_reject_drill_s_bound_counts_the_window_fill(weekly: SuiteSpec, tmp_path: Path) -> None:
    spec = next(d for d in weekly.drills if d.name == "high-reject-rate")
    world = fake.FakeWorld()
    world.detect_delay_s = 26.0
    result = run(spec, fake.environment(world, tmp_path))
    pace_ = result.evidence.pace
    assert pace_ is not None and pace_.alert == "RejectRateSpikeHigh"
    # the fake publishes a 2/s baseline: 12x fills (10-1)/(12-1) of the 29 s span
    assert pace_.bound_s == pytest.approx(29 * 9 / 11 + 3, abs=1e-3)
    assert "window fill 23.7 s" in pace_.note


def test_the_operating_point_is_read_at_the_injection() -> None:
    asked: list[str] = []

    class Metrics:
        def instant(self, query: str) -> float | None:
            asked.append(query)
            return 20.0 if "witness_validations_total" in query else 0.4

        def series(self, *a: object) -> list[tuple[dt.datetime, float]]:
            return []

    p = pace.physics_for(TimingProfile.DRILL)
    at = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    point = pace.operating_point(Metrics(), p, ["witness_failure_ratio", "enforcement_disabled"],
                                 at, (Signal("reject_rate", 0.7),))
    assert point.rates == {"witness_failure_ratio": Rates(0.4, 20.0)}
    assert point.baselines == {"reject_rate": 0.7}
    assert asked[0] == ("last_over_time((sum(rate(witness_validation_failures_total[30s])))[1s:1s] "
                        f"@ {at.timestamp():.3f})")
    found = pace.bounds(p, ["WitnessValidationFailures"],
                        FaultSpec("witness_failures", {"fraction": 0.5, "rate": 20}), point)
    # (0.4 + 10) / (20 + 20) = 26 %: crossing 5 % takes x = (1 - 0.4) / (10 - 1) of the span
    assert found["WitnessValidationFailures"].enter == pytest.approx(0.6 / 9)


def test_margin_and_fail_flag_come_from_the_config_file(tmp_path: Path) -> None:
    from pfdrill.errors import InvalidInput
    from pfdrill.settings.config import load_config

    path = tmp_path / "pfdrill.yaml"
    path.write_text("slow_detection_margin_s: 1.5\nslow_detection_fails: true\n")
    cfg = load_config(path)
    assert (cfg.slow_detection_margin_s, cfg.slow_detection_fails) == (1.5, True)
    assert Config().slow_detection_margin_s == 3.0 and not Config().slow_detection_fails
    path.write_text("slow_detection_margin_s: soon\n")
    with pytest.raises(InvalidInput, match="slow_detection_margin_s must be a number"):
        load_config(path)
