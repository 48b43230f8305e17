"""The coverage table and the one-line failures CI logs show."""

from __future__ import annotations

from pfdrill.model.evidence import CommandOutcome
from pfdrill.model.header import RecordHeader
from pfdrill.model.runbook import Command, CommandResult, ExpectationResult, Intent, RunbookRun
from pfdrill.runbook import coverage


def result(section: str, line: int, text: str, outcome: CommandOutcome, reason: str) -> CommandResult:
    return CommandResult(Command(section, line, line, text), Intent.CHANGE, outcome, reason, 0,
                         "2026-11-28T12:00:00+00:00", 0.0, 0.5)


def run() -> RunbookRun:
    return RunbookRun(
        header=RecordHeader.create(cluster="c", context="c", provider="kwok"), runbook="rb.md",
        sha256="x", severity="SEV-1", sections=("A", "B"), sandbox="/tmp/x",
        results=(
            result("A", 10, "kubectl get pods", CommandOutcome.OK, "exit 0"),
            result("A", 11, "kubectl patch configmap policy-cnofig", CommandOutcome.FAILED,
                   'configmaps "policy-cnofig" not found'),
            result("B", 20, "./pfctl policy update --file x.yaml", CommandOutcome.NOT_EXECUTABLE,
                   "needs the operator-written file x.yaml, which ..."),
            result("B", 21, "curl https://hooks.slack.com", CommandOutcome.NOT_EXECUTABLE,
                   "curl refused: hooks.slack.com is not 127.0.0.1: nothing leaves the drill"),
        ),
        expectations=(ExpectationResult("B", 25, "expect configmap policy-config enforcement_mode"
                                        " == enforce", False, "enforcement_mode=monitor", 21,
                                        "curl https://hooks.slack.com"),),
    )


def test_summary_counts_and_groups_reasons() -> None:
    s = coverage.summarise(run())
    assert (s.total, s.ok, s.failed, s.not_executable) == (4, 1, 1, 2)
    assert s.executed_share == 0.25
    assert dict(s.reasons_not_executable) == {"needs an operator-written input file": 1,
                                              "names a host other than 127.0.0.1": 1}
    assert s.expectations_failed == 1


def test_failures_name_section_line_and_command() -> None:
    lines = coverage.failures(run())
    assert lines[0] == ('A: line 11: `kubectl patch configmap policy-cnofig`: '
                        'configmaps "policy-cnofig" not found')
    assert lines[1] == ("B: line 25: expected configmap policy-config enforcement_mode == enforce "
                        "after line 21 `curl https://hooks.slack.com`, observed "
                        "enforcement_mode=monitor")


def test_the_table_shows_every_command_under_its_section() -> None:
    text = coverage.table(run())
    assert "FAILED" in text and "not-exec" in text
    assert text.splitlines()[1] == "A"
    assert "4 commands: 1 ok, 1 failed, 2 not executable (25% ran and succeeded)" in text


def test_sections_fail_on_commands_and_on_expectations() -> None:
    a, b = run().section_evidence()
    assert not a.ok and "line 11" in a.reason
    assert not b.ok and "line 25: expected configmap policy-config enforcement_mode == enforce, " \
        "observed enforcement_mode=monitor" in b.reason
    assert not run().ok
