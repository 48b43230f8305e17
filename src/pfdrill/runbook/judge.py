"""Judging a command by what it is for.

A ``grep`` that finds nothing during an investigation has answered the
question (exit 1 is not a failure); a change that does not take effect has
failed even when kubectl exited 0; a notification the sink did not accept
has not notified anyone. Rules that hold for every command come first
(timeouts, refused hosts, failed kubectl/pfctl calls, environment
limitations), then one judge per :class:`~pfdrill.model.runbook.Intent`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from pfdrill.model.evidence import CommandOutcome
from pfdrill.model.runbook import Command, EffectCheck, Intent
from pfdrill.runbook import verify
from pfdrill.runbook.audit import Call
from pfdrill.runbook.intent import CommandIntent, pfctl_command

# stderr of a failed call that says the drill environment cannot serve it (not the runbook's fault).
LIMITATIONS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("kubectl", re.compile(r"Metrics API not available|metrics\.k8s\.io"),
     "the drill cluster serves no metrics.k8s.io API (no metrics-server)"),
    ("kubectl", re.compile(r"metrics not available yet"),
     "metrics-server has no usage figures for these pods yet (it scrapes every 15 s; "
     "pods started less than ~30 s ago have none)"),
    ("kubectl", re.compile(r"does not support exec|exec is not supported"),
     "the drill cluster cannot exec into this pod"),
)


@dataclasses.dataclass(frozen=True)
class Observed:
    command: Command
    classification: CommandIntent
    exit_status: int | None
    timed_out: bool
    streaming: bool
    timeout_s: float
    calls: tuple[Call, ...] = ()
    written: tuple[tuple[str, int], ...] = ()  # (relative path, size) created or changed
    stderr: str = ""
    stdout: str = ""


@dataclasses.dataclass(frozen=True)
class Judgement:
    outcome: CommandOutcome
    reason: str
    checks: tuple[EffectCheck, ...] = ()


OK = CommandOutcome.OK
FAILED = CommandOutcome.FAILED
NOT_EXECUTABLE = CommandOutcome.NOT_EXECUTABLE


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0][:300] if lines else ""


def _describe(call: Call) -> str:
    argv = call.record.argv
    if call.record.tool == "pfctl":
        cmd, sub = pfctl_command(argv)
        return f"pfctl {cmd} {sub}".strip()
    words = [a for a in argv if not a.startswith("-")][:3]
    return " ".join([call.record.tool, *words])


def _common(obs: Observed) -> Judgement | None:
    if obs.timed_out and not obs.streaming:
        return Judgement(FAILED, f"did not finish within {obs.timeout_s:g}s and was stopped")
    for call in obs.calls:
        if call.malformed:
            return Judgement(FAILED, f"curl: {call.record.note}")
        if call.record.refused:
            return Judgement(NOT_EXECUTABLE, f"{call.record.tool} refused: {call.record.note}")
    if obs.exit_status == 0:
        # A failed call the command itself handled (`kubectl top ... || kubectl get pods`,
        # an `if` condition) is the runbook's business; its effect is judged below.
        return None
    for call in obs.calls:
        if not call.failed:
            continue
        for tool, pattern, reason in LIMITATIONS:
            if call.record.tool == tool and pattern.search(call.stderr):
                return Judgement(NOT_EXECUTABLE, reason)
    if _finding(obs):
        return None  # the check ran and its answer is "no": judged by _check below
    if obs.classification.intent is not Intent.CHANGE:
        for call in obs.calls:
            if call.failed and call.record.tool in ("kubectl", "pfctl"):
                msg = _last_line(call.stderr) or f"exit {call.record.exit_status}"
                return Judgement(FAILED, f"{_describe(call)} failed: {msg}")
    return None


def _exit_reason(obs: Observed) -> str:
    tail = _last_line(obs.stderr) or _last_line(obs.stdout)
    return f"exit {obs.exit_status}" + (f": {tail}" if tail else "")


def _change(obs: Observed, ctx: verify.Context) -> Judgement:
    checks = tuple(verify.verify(obs.calls, ctx))
    failed = [c for c in checks if not c.ok]
    if failed:
        return Judgement(FAILED, failed[0].reason or f"{failed[0].what}: {failed[0].observed}",
                         checks)
    for call in obs.calls:
        if call.failed and call.record.tool == "pfctl":
            msg = _last_line(call.stderr) or f"exit {call.record.exit_status}"
            return Judgement(FAILED, f"{_describe(call)} failed: {msg}", checks)
    if obs.exit_status != 0:
        return Judgement(FAILED, _exit_reason(obs), checks)
    acting = [c for c in obs.calls if c.record.tool in ("kubectl", "pfctl")]
    if not acting:
        return Judgement(OK, "no change made: its condition did not hold", checks)
    if checks:
        return Judgement(OK, "; ".join(f"{c.what}: {c.observed}" for c in checks), checks)
    return Judgement(OK, "exit 0", checks)


def _notification(obs: Observed, ctx: verify.Context) -> Judgement:
    sent = [c for c in obs.calls if c.record.tool == "curl"]
    for call in sent:
        status = call.record.http_status
        if call.record.exit_status not in (0, None):
            msg = call.record.note or _first_line(call.stderr) or "no answer"
            return Judgement(FAILED, f"curl exit {call.record.exit_status}: {msg}")
        if status is None or not 200 <= status < 300:
            return Judgement(FAILED, f"the notification was not accepted (HTTP {status or 'none'})")
    if obs.exit_status != 0:
        return Judgement(FAILED, _exit_reason(obs))
    pfctl = [c for c in obs.calls if c.record.tool == "pfctl"]
    if not sent and not pfctl:
        return Judgement(OK, "no notification sent: its condition did not hold")
    statuses = ", ".join(str(c.record.http_status) for c in sent)
    return Judgement(OK, f"delivered (HTTP {statuses})" if sent else "exit 0")


def _finding(obs: Observed) -> bool:
    """A check during an investigation that answered "no" (exit 1: a verdict, not bad usage).

    ``sha256sum -c`` on a tampered artifact or ``pfctl validate --dfa`` refusing it has
    found what the investigation looks for; the finding is the evidence, not a broken
    runbook step. Outside investigation sections a failing check still fails.
    """
    if obs.classification.intent is not Intent.CHECK or obs.exit_status != 1:
        return False
    if "investigation" not in obs.command.section.lower():
        return False
    return all(c.record.exit_status in (0, 1, None) for c in obs.calls
               if c.record.tool in ("kubectl", "pfctl"))


def _check(obs: Observed, ctx: verify.Context) -> Judgement:
    if _finding(obs):
        return Judgement(OK, f"finding: {_exit_reason(obs)}")
    if obs.exit_status != 0:
        return Judgement(FAILED, f"check failed: {_exit_reason(obs)}")
    return Judgement(OK, "exit 0")


def _investigation(obs: Observed, ctx: verify.Context) -> Judgement:
    if obs.exit_status == 0:
        return Judgement(OK, "bounded: stopped after its time" if obs.timed_out else "exit 0")
    if obs.exit_status == 1 and obs.classification.last_is_grep:
        return Judgement(OK, "grep found no match: an answer, not a failure")
    if obs.timed_out:
        return Judgement(OK, "bounded: stopped after its time")
    return Judgement(FAILED, _exit_reason(obs))


def _documentation(obs: Observed, ctx: verify.Context) -> Judgement:
    if obs.exit_status != 0:
        return Judgement(FAILED, _exit_reason(obs))
    empty = [p for p, size in obs.written if size == 0]
    if empty:
        return Judgement(FAILED, f"wrote an empty file: {empty[0]}")
    if obs.written:
        shown = ", ".join(f"{p} ({size} bytes)" for p, size in obs.written[:3])
        return Judgement(OK, f"wrote {shown}")
    return Judgement(OK, "exit 0")


def _setup(obs: Observed, ctx: verify.Context) -> Judgement:
    if obs.exit_status != 0:
        return Judgement(FAILED, _exit_reason(obs))
    return Judgement(OK, "exit 0")


_JUDGES: dict[Intent, Callable[[Observed, verify.Context], Judgement]] = {
    Intent.CHANGE: _change,
    Intent.NOTIFICATION: _notification,
    Intent.CHECK: _check,
    Intent.INVESTIGATION: _investigation,
    Intent.DOCUMENTATION: _documentation,
    Intent.SETUP: _setup,
}

def judge(obs: Observed, ctx: verify.Context) -> Judgement:
    """The outcome of one command from what was observed while and after it ran."""
    common = _common(obs)
    if common is not None:
        return common
    return _JUDGES[obs.classification.intent](obs, ctx)
