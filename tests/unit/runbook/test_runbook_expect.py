"""Expectations a runbook states in HTML comments, parsed before anything runs."""

from __future__ import annotations

import pytest

from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import InvalidInput
from pfdrill.model.runbook import Directive, Section
from pfdrill.runbook import expect

SECTION = Section(("Recovery", "Policy Enforcement Recovery"), "1. Policy Enforcement Recovery",
                  3, 10)


class Counter:
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def count(self, channel: str) -> int:
        return self.counts.get(channel, 0)


def parse(text: str) -> expect.Expectation:
    e = expect.parse(Directive(12, text), SECTION, "rb.md")
    assert e is not None
    return e


@pytest.mark.parametrize("text, message", [
    ("expect configmap policy-config == enforce", "names a key"),
    ("expect deployment sidecar-watcher pods >= 1", "replicas or ready"),
    ("expect deployment sidecar-watcher ready >= one", "whole number"),
    ("expect secret x y == z", "unknown expectation kind 'secret'"),
    ("expect configmap x k ~= v", "expectation must read"),
    ("assert configmap x k == v", "unknown pfdrill directive 'assert'"),
])
def test_bad_directives_name_their_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        expect.parse(Directive(12, text), SECTION, "rb.md")
    assert message in err.value.message
    assert (err.value.file, err.value.line, err.value.text) == ("rb.md", 12, text)


def test_conditions_on_drill_variables() -> None:
    e = parse("expect deployment sidecar-watcher replicas == 0 when SEVERITY == SEV-1")
    assert e.applies({"SEVERITY": "SEV-1"}) == (True, "")
    holds, why = e.applies({"SEVERITY": "SEV-2"})
    assert not holds and why == "SEVERITY=SEV-2, not == SEV-1"


def test_evaluation_reads_the_cluster_and_the_notifications() -> None:
    c = FakeCluster()
    c.add_configmap("production", "policy-config", {"enforcement_mode": "monitor"})
    c.add_deployment("production", "sidecar-watcher", 2)
    mode = expect.evaluate(parse("expect configmap policy-config enforcement_mode == enforce"),
                           c, "production", Counter({}), 0.0)
    assert (mode.ok, mode.observed) == (False, "enforcement_mode=monitor")
    ready = expect.evaluate(parse("expect deployment sidecar-watcher ready >= 1"), c,
                            "production", Counter({}), 0.0)
    assert (ready.ok, ready.observed) == (True, "ready=2")
    sent = expect.evaluate(parse("expect notification security >= 1"), c, "production",
                           Counter({"security": 1}), 0.0)
    assert sent.ok and sent.observed == "1 security notification(s)"
    missing = expect.evaluate(parse("expect configmap nope k == v"), c, "production",
                              Counter({}), 0.0)
    assert not missing.ok and "not found" in missing.observed
