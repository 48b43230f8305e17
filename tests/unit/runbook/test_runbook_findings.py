"""A check that answers "no" during an investigation is a finding; elsewhere it fails."""

from __future__ import annotations

from pfdrill.model.evidence import CommandOutcome
from pfdrill.model.runbook import Command, Intent
from pfdrill.runbook import judge
from pfdrill.runbook.intent import classify


def _observed(section: str, text: str, status: int) -> judge.Observed:
    cmd = Command(section=section, line=1, end_line=1, text=text)
    c = classify(cmd.text)
    assert c.intent is Intent.CHECK, c
    return judge.Observed(command=cmd, classification=c, exit_status=status, timed_out=False,
                          streaming=False, timeout_s=10.0, stderr="sha256sum: WARNING: 1 computed "
                          "checksum did NOT match")


def test_a_negative_check_in_an_investigation_is_a_finding() -> None:
    obs = _observed("Incident Investigation / Policy Violation Analysis",
                    "(cd artifact && sha256sum -c dfa.json.sha256)", 1)
    got = judge.judge(obs, None)  # type: ignore[arg-type]
    assert got.outcome is CommandOutcome.OK and got.reason.startswith("finding:")


def test_the_same_check_outside_an_investigation_fails() -> None:
    obs = _observed("Recovery Procedures / Policy Enforcement Recovery",
                    "(cd artifact && sha256sum -c dfa.json.sha256)", 1)
    assert judge.judge(obs, None).outcome is CommandOutcome.FAILED  # type: ignore[arg-type]


def test_bad_usage_is_never_a_finding() -> None:
    obs = _observed("Incident Investigation / Policy Violation Analysis",
                    "(cd artifact && sha256sum -c dfa.json.sha256)", 2)
    assert judge.judge(obs, None).outcome is CommandOutcome.FAILED  # type: ignore[arg-type]
