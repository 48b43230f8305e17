"""Reading the watcher's verdict on a policy-config change from its log lines."""

from __future__ import annotations

import datetime as dt

from pfdrill.fabric.logline import LogLine
from pfdrill.runbook.observer import Verdict, judge_reloads

T0 = dt.datetime(2026, 11, 28, 12, 0, 0, tzinfo=dt.UTC)


def line(pod: str, seconds: float, result: str, mode: str = "", msg: str = "") -> str:
    ts = (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    fields = {"result": result, **({"mode": mode} if mode else {}), **({"msg": msg} if msg else {})}
    level = "ERROR" if result == "failure" else "INFO"
    return f"[pod/{pod}/sidecar-watcher] " + LogLine(level, "config_reload", (), fields, ts).render()


def test_every_pod_must_reload_the_expected_mode() -> None:
    want = {"enforcement_mode": "shadow"}
    one = [line("a", 1, "success", "shadow"), line("b", -5, "success", "disabled")]
    assert judge_reloads(one, T0, want) is None  # b has not reloaded yet: keep waiting
    both = [*one, line("b", 1.2, "success", "shadow")]
    verdict = judge_reloads(both, T0, want)
    assert verdict is not None and verdict.verdict is Verdict.ACCEPTED


def test_reloads_from_before_the_change_do_not_count() -> None:
    # A pod that just started logs the old mode a moment before the patch.
    lines = [line("a", -0.3, "success", "disabled")]
    assert judge_reloads(lines, T0, {"enforcement_mode": "shadow"}) is None
    final = judge_reloads(lines, T0, {"enforcement_mode": "shadow"}, final=True)
    assert final is None


def test_a_refusal_is_the_verdict_at_once() -> None:
    lines = [line("a", 0.5, "failure", msg="policy-config refused: enforcement_mode='off'")]
    verdict = judge_reloads(lines, T0, {"enforcement_mode": "off"})
    assert verdict is not None and verdict.verdict is Verdict.REFUSED
    assert "enforcement_mode='off'" in verdict.detail


def test_at_the_deadline_another_mode_is_a_refusal() -> None:
    lines = [line("a", 0.5, "success", "monitor")]
    assert judge_reloads(lines, T0, {"enforcement_mode": "enforce"}) is None
    verdict = judge_reloads(lines, T0, {"enforcement_mode": "enforce"}, final=True)
    assert verdict is not None and verdict.verdict is Verdict.REFUSED
