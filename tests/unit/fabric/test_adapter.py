from __future__ import annotations

import io
import json
import random

import pytest
from fabric_support import DEPLOY, reference_rules, run

from pfdrill.fabric.adapter import Adapter
from pfdrill.fabric.chaos import AdapterKnobs, KnobsRefused, WatcherKnobs
from pfdrill.fabric.logsink import LogSink
from pfdrill.fabric.rules import RuleSet, RulesRefused


def adapter(**knobs: str) -> tuple[Adapter, io.StringIO]:
    stream = io.StringIO()
    a = Adapter(LogSink(stream), rng=random.Random(7))
    files = {"rules.yaml": (DEPLOY / "adapter-rules.yaml").read_bytes()}
    files.update({k: v.encode() for k, v in knobs.items()})
    a.apply_config(files)
    return a, stream


def permit(a: Adapter, principal: str, action: str) -> tuple[int, dict[str, object]]:
    return run(a.permit(json.dumps({"principal": principal, "action": action}).encode()))


def test_reference_rules() -> None:
    rules = reference_rules()
    assert rules.decide("svc-frontend", "read").allow
    assert rules.decide("svc-intern", "export").rule == "interns-no-export"
    assert not rules.decide("svc-reporting", "delete").allow
    assert rules.decide("nobody", "read").rule == "default-deny"
    assert RuleSet.from_dict(rules.to_dict()) == rules


@pytest.mark.parametrize("text, needle", [
    ("rules: 3", "'rules' must be a list"),
    ("default: maybe", "default='maybe'"),
    ("rules: [{principals: [a], actions: []}]", "rules[0].actions"),
    ("rules: [{principals: [a], actions: [b], effect: perhaps}]", "rules[0].effect"),
    ("rules: [\n  - {", "not YAML at line"),
])
def test_bad_rules_are_refused(text: str, needle: str) -> None:
    with pytest.raises(RulesRefused) as exc:
        RuleSet.parse(text)
    assert needle in str(exc.value)


def test_adapter_answers_and_counts() -> None:
    a, _ = adapter()
    assert permit(a, "svc-frontend", "read") == (200, {"allow": True, "rule": "session-basics"})
    assert permit(a, "svc-intern", "export")[1]["allow"] is False
    assert run(a.permit(b"nope"))[0] == 400
    reg = a.telemetry.registry
    assert reg.get_sample_value("adapter_requests_total", {"outcome": "allow"}) == 1
    assert reg.get_sample_value("adapter_requests_total", {"outcome": "deny"}) == 1
    assert reg.get_sample_value("adapter_requests_total", {"outcome": "malformed"}) == 1


def test_error_rate_knob_injects_500s() -> None:
    a, _ = adapter(error_rate="0.5")
    statuses = [permit(a, "svc-frontend", "read")[0] for _ in range(200)]
    assert 60 < statuses.count(500) < 140 and set(statuses) == {200, 500}
    a.apply_config({"rules.yaml": (DEPLOY / "adapter-rules.yaml").read_bytes()})
    assert all(permit(a, "svc-frontend", "read")[0] == 200 for _ in range(50))


def test_invalid_adapter_config_keeps_the_last_good_rules() -> None:
    a, stream = adapter()
    a.apply_config({"rules.yaml": b"rules: 3"})
    a.apply_config({"rules.yaml": b"rules: []", "error_rate": b"2"})
    a.apply_config({"rules.yaml": b"rules: []", "surprise": b"1"})
    assert a.rules is not None and len(a.rules.rules) == 5
    assert stream.getvalue().count("level=ERROR") == 3


def test_failure_mode_gauge_follows_policy_config() -> None:
    a, _ = adapter()
    reg = a.telemetry.registry
    assert reg.get_sample_value("adapter_failure_mode", {"mode": "fail_closed"}) == 1
    a.apply_policy_config({"adapter_failure_mode": b"fail_open", "enforcement_mode": b"enforce"})
    assert reg.get_sample_value("adapter_failure_mode", {"mode": "fail_open"}) == 1
    assert reg.get_sample_value("adapter_failure_mode", {"mode": "fail_closed"}) == 0


def test_knob_parsing() -> None:
    assert AdapterKnobs.parse({"error_rate": "0.25"}).error_rate == 0.25
    assert WatcherKnobs.parse({}) == WatcherKnobs()
    for bad in ({"error_rate": "1.5"}, {"added_latency_ms": "soon"}):
        with pytest.raises(KnobsRefused):
            AdapterKnobs.parse(bad)
    with pytest.raises(KnobsRefused, match="unknown key"):
        WatcherKnobs.parse({"cpu_burn": "5"})
