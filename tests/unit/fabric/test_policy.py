from __future__ import annotations

import pytest

from pfdrill.fabric.policy import ConfigRefused, EnforcementMode, FailureMode, PolicyConfig


def test_defaults_when_empty() -> None:
    c = PolicyConfig.parse({})
    assert c.enforcement_mode is EnforcementMode.ENFORCE
    assert c.adapter_failure_mode is FailureMode.FAIL_CLOSED and not c.high_assurance_mode


def test_runbook_values_parse() -> None:
    c = PolicyConfig.parse({"enforcement_mode": "shadow", "performance_mode": "enabled",
                            "cache_size": "1024", "batch_size": "100", "async_processing": "true",
                            "high_assurance_mode": "false", "log_level": "info",
                            "adapter_failure_mode": "fail_open", "adapter_timeout_ms": "50"})
    assert c.enforcement_mode is EnforcementMode.SHADOW and c.performance_mode
    assert c.async_processing and c.log_level == "INFO" and c.adapter_timeout_ms == 50
    assert PolicyConfig.parse(c.to_dict()) == c


@pytest.mark.parametrize("data, needle", [
    ({"enforcement_mode": "off"}, "enforcement_mode='off'"),
    ({"cache_size": "-1"}, "cache_size"),
    ({"batch_size": "lots"}, "batch_size"),
    ({"async_processing": "maybe"}, "async_processing"),
    ({"log_level": "TRACE"}, "log_level"),
    ({"adapter_failure_mode": "fail_sideways"}, "adapter_failure_mode"),
    ({"adapter_timeout_ms": "0"}, "adapter_timeout_ms"),
    ({"enforcment_mode": "enforce"}, "unknown key(s) enforcment_mode"),
])
def test_invalid_values_are_refused_naming_the_key(data: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigRefused) as exc:
        PolicyConfig.parse(data)
    assert needle in str(exc.value)
