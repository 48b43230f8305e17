"""What counts as a regression: the head's runs judged against the base's. Pure.

Under each severity the runbook was checked with:

- a command that succeeded at the base and fails (or can no longer run) at
  the head — its counterpart found through :mod:`pfdrill.gate.diff` — is a
  regression; one that failed at the base too is standing (known);
- a command the change added that fails is a regression;
- a ``pfdrill: expect`` expectation met at the base and unmet now is a
  regression, as is a new one that does not hold; one unmet at both is
  standing;
- a change or notification the base's command made (a tool call with that
  purpose, :mod:`pfdrill.runbook.intent`) that the head's counterpart, which
  still runs, no longer makes is *unreachable* (an ``if`` that no longer
  holds, a branch for another severity).

Regardless of severity, a change or notification command the head no longer
has at all is *removed* (commands inside a multi-line block count one by one,
so dropping the ``kubectl scale`` out of an ``if`` block is caught; one that
is rewritten — same program and verb — is judged by running it instead).

A head run's failure above the first line the change touched (a command that
succeeded at the base, an expectation met there) cannot come from the change:
the runbook runs top to bottom and nothing before that line differs. It is
known — a flaky command or the environment (a ``sleep 2`` that was not long
enough on a loaded runner) — not a regression.

A drill that fails at the head is known when it failed at the base in the
same phase for the same reason (numbers and identifiers aside).
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections import Counter
from collections.abc import Mapping

from pfdrill.model.evidence import CommandOutcome
from pfdrill.model.gate import (
    Change,
    CommandChange,
    Finding,
    FindingKind,
    RunbookDiff,
    SectionChange,
    Selected,
)
from pfdrill.model.result import DrillResult
from pfdrill.model.runbook import Command, CommandResult, ExpectationResult, Intent, RunbookRun
from pfdrill.model.timeline import Phase
from pfdrill.runbook import intent, lexer, selection

PURPOSES = frozenset({Intent.CHANGE, Intent.NOTIFICATION})
_BAD = frozenset({CommandOutcome.FAILED, CommandOutcome.NOT_EXECUTABLE})


# --- what a command changes ----------------------------------------------------------------
def _signature(name: str, args: tuple[str, ...]) -> str:
    """What a change is about, stable across runs: program, verb and objects, no flag values
    (``kubectl scale deployment sidecar-watcher``; ``curl $SECURITY_WEBHOOK``)."""
    base = name.rsplit("/", 1)[-1]
    if base == "kubectl":
        words = intent.kubectl_words(args)
    elif base == "pfctl":
        words = [w for w in intent.pfctl_command(args) if w]
    elif base == "curl":
        words = [a for a in args if "://" in a or a.startswith("$") or "WEBHOOK" in a][:1]
    else:
        words = [a for a in args if not a.startswith("-")][:2]
    return " ".join([base, *words])


def _verb(signature: str) -> str:
    return " ".join(signature.split()[:2])


def changes_written(text: str) -> Counter[str]:
    """The change and notification commands written in a runbook command (each simple command)."""
    try:
        found = lexer.simple_commands(text)
    except lexer.ShellSyntax:
        return Counter()
    return Counter(_signature(c.name, c.args) for c in found
                   if c.words and intent.classify_simple(c) in PURPOSES)


def changes_made(result: CommandResult) -> Counter[str]:
    """The change and notification tool calls a command made when it ran."""
    out: Counter[str] = Counter()
    for call in result.tool_calls:
        if call.refused:
            continue
        text = shlex.join([call.tool, *call.argv])
        if intent.classify(text).intent in PURPOSES:
            out[_signature(call.tool, call.argv)] += 1
    return out


# --- counterparts ----------------------------------------------------------------------------
def _pairs(diff: RunbookDiff) -> dict[Command, CommandChange]:
    """Head command → its change record (which holds the base counterpart, if any)."""
    return {c.head: c for s in diff.sections for c in s.commands if c.head is not None}


def _expectation_key(e: ExpectationResult) -> tuple[tuple[str, ...], str]:
    return (selection.path_key(e.section.split(" / ")), " ".join(e.text.split()))


def _described(r: CommandResult) -> str:
    return f"{r.outcome.value}: {r.reason}" if r.reason else r.outcome.value


def removed(diff: RunbookDiff, file: str) -> list[Finding]:
    """Change and notification commands of the base that the head no longer has anywhere."""
    per_section: list[tuple[SectionChange, Counter[str], Counter[str]]] = []
    gained_anywhere: Counter[str] = Counter()
    for s in diff.sections:
        before: Counter[str] = Counter()
        after: Counter[str] = Counter()
        for c in s.commands:
            if c.base is not None:
                before += changes_written(c.base.text)
            if c.head is not None:
                after += changes_written(c.head.text)
        per_section.append((s, before - after, after - before))
        gained_anywhere += after - before
    out: list[Finding] = []
    for s, gone, gained in per_section:
        rewritten = Counter(_verb(sig) for sig in gained.elements())
        for sig in sorted(gone.elements()):
            if rewritten[_verb(sig)] > 0:  # rewritten, not removed: running it judges it
                rewritten[_verb(sig)] -= 1
                continue
            if gained_anywhere[sig] > 0:  # moved to another section
                gained_anywhere[sig] -= 1
                continue
            where = _where_removed(s, sig)
            out.append(Finding(
                kind=FindingKind.CHANGE_REMOVED, standing=False, file=file,
                line=s.head_line, section=s.name, subject=f"`{sig}`",
                detail=("the head no longer has it" if s.change is not Change.REMOVED
                        else "its section was removed"),
                base_detail=f"base line {where.line}: `{where.short(80)}`"))
    return out


def _where_removed(section: SectionChange, sig: str) -> Command:
    """The base command the removed change was written in: a removed one first, else edited."""
    for kinds in ((Change.REMOVED,), (Change.EDITED, Change.MOVED, Change.SAME)):
        for c in section.commands:
            if c.change in kinds and c.base is not None and changes_written(c.base.text)[sig]:
                return c.base
    raise AssertionError(f"{sig} is in no base command of {section.name}")


def runbook(diff: RunbookDiff, base: RunbookRun | None, head: RunbookRun, *, file: str,
            severity: str) -> list[Finding]:
    """Findings of one severity's head run against the base run (None: no base runbook)."""
    pairs = _pairs(diff)
    base_results: dict[Command, CommandResult] = {r.command: r for r in base.results} \
        if base else {}
    out: list[Finding] = []
    for r in head.results:
        change = pairs.get(r.command)
        counterpart = change.base if change is not None else None
        b = base_results.get(counterpart) if counterpart is not None else None

        def found(kind: FindingKind, standing: bool, detail: str, base_detail: str,
                  r: CommandResult = r) -> Finding:
            return Finding(kind=kind, standing=standing, file=file, line=r.command.line,
                           section=r.command.section, subject=f"`{r.command.short(80)}`",
                           detail=detail, severity=severity, base_detail=base_detail)

        if r.outcome in _BAD:
            if b is None:
                if r.outcome is CommandOutcome.FAILED and counterpart is None:
                    out.append(found(FindingKind.NEW_COMMAND_FAILS, False, _described(r),
                                     "not at the base"))
                elif r.outcome is CommandOutcome.FAILED:
                    out.append(found(FindingKind.COMMAND_FAILS, False, _described(r),
                                     "did not run at the base"))
            elif b.outcome is CommandOutcome.OK:
                out.append(found(FindingKind.COMMAND_FAILS, False, _described(r), _described(b)))
            elif r.outcome is CommandOutcome.FAILED:
                out.append(found(FindingKind.COMMAND_FAILS, b.outcome is CommandOutcome.FAILED,
                                 _described(r), _described(b)))
            continue
        if b is not None and r.outcome is CommandOutcome.OK:
            lost = changes_made(b) - changes_made(r)
            still = changes_written(r.command.text)
            for sig in sorted(lost.elements()):
                if still[sig] > 0:  # not written any more: reported as removed instead
                    out.append(found(FindingKind.CHANGE_UNREACHABLE, False,
                                     f"`{sig}` is still written but no longer runs",
                                     f"it ran at the base (line {b.command.line})"))
    base_expect: dict[tuple[tuple[str, ...], str], ExpectationResult] = {
        _expectation_key(e): e for e in (base.expectations if base else ())}
    for e in head.expectations:
        if e.ok:
            continue
        be = base_expect.get(_expectation_key(e))
        standing = be is not None and not be.ok
        out.append(Finding(
            kind=FindingKind.EXPECTATION_UNMET, standing=standing, file=file, line=e.line,
            section=e.section, subject=e.text.removeprefix("expect "),
            detail=f"observed {e.observed}" + (f" after line {e.after_line}"
                                               if e.after_line is not None else ""),
            base_detail=("not at the base" if be is None else
                         f"observed {be.observed}" if not be.ok else
                         "met at the base" if not be.skipped else f"not judged ({be.skipped})"),
            severity=severity))
    first = first_change_line(diff)
    return [_before_change(f, first) for f in out]


# What a head run decides (a static removal is the text's, wherever it is).
_RUN_DEPENDENT = (FindingKind.COMMAND_FAILS, FindingKind.EXPECTATION_UNMET,
                  FindingKind.CHANGE_UNREACHABLE)


def first_change_line(diff: RunbookDiff) -> int | None:
    """The head line of the first section that runs differently (None: no such bound, e.g. a
    section was removed, whose place in the head is nowhere)."""
    changed = diff.changed
    if not changed or any(s.head_line is None for s in changed):
        return None
    return min(s.head_line for s in changed if s.head_line is not None)


def _before_change(f: Finding, first: int | None) -> Finding:
    if (f.standing or first is None or f.line is None or f.line >= first
            or f.kind not in _RUN_DEPENDENT):
        return f
    return dataclasses.replace(
        f, standing=True, base_detail=f"{f.base_detail}; it runs before line {first}, the "
        "first the change touched, so the change cannot have caused it (flaky or environment)")


def needs_base(diff: RunbookDiff, heads: Mapping[str, RunbookRun]) -> tuple[str, ...]:
    """The severities whose base run is needed to judge the head runs ``heads``.

    A base run explains the head: which failures are standing, which expectations
    held before, which changes used to run. A head run with nothing to explain needs
    none — unless the change touched a change or notification command (edited or
    moved: whether it still runs as it did is a comparison), or a change written at the
    head ran under no severity at all. Otherwise, only the severities whose head run
    failed somewhere.
    """
    touched = any(c.change in (Change.EDITED, Change.MOVED) and c.head is not None
                  and changes_written(c.head.text)
                  for s in diff.sections for c in s.commands)
    made: dict[Command, Counter[str]] = {}
    for run in heads.values():
        for r in run.results:
            made[r.command] = made.get(r.command, Counter()) + changes_made(r)
    unreached = any(changes_written(cmd.text) - made[cmd] for cmd in made)
    if touched or unreached:
        return tuple(heads)
    return tuple(sev for sev, run in heads.items()
                 if any(r.outcome in _BAD for r in run.results)
                 or any(not e.ok for e in run.expectations))


# --- drills ----------------------------------------------------------------------------------
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_IDENT = re.compile(r"\b(?:INC-[0-9A-Z]+|[0-9a-f]{8,})\b")


def reason_key(reason: str) -> str:
    """A failure reason without its measurements and identifiers, for comparing two runs."""
    return " ".join(_NUMBER.sub("#", _IDENT.sub("ID", reason)).split())


def drill(selected: Selected, file: str, head: DrillResult,
          base: DrillResult | None) -> Finding | None:
    """A head drill's failure, judged against the base run (None: the head passed)."""
    if head.verdict.ok:
        return None
    phase = head.failing_phase.value if head.failing_phase else "drill"
    if head.failing_phase is Phase.PREFLIGHT:
        return Finding(kind=FindingKind.DRILL_NOT_JUDGED, standing=False, file=file,
                       line=selected.line, section=phase, subject=f"drill {head.name}",
                       detail=f"could not start: {head.reason}",
                       base_detail="not run: a drill that never started judges nothing")
    if base is not None and base.failing_phase is Phase.PREFLIGHT:
        return Finding(kind=FindingKind.DRILL_NOT_JUDGED, standing=False, file=file,
                       line=selected.line, section=phase, subject=f"drill {head.name}",
                       detail=f"{head.verdict.value} in {phase}: {head.reason}",
                       base_detail=f"the base run could not start: {base.reason}")
    same = (base is not None and not base.verdict.ok
            and base.failing_phase == head.failing_phase
            and reason_key(base.reason) == reason_key(head.reason))
    if base is None:
        base_detail = "new drill: no base run"
    elif base.verdict.ok:
        base_detail = "passed at the base"
    else:
        where = base.failing_phase.value if base.failing_phase else "drill"
        base_detail = f"{base.verdict.value} in {where} at the base: {base.reason}"
    return Finding(kind=FindingKind.DRILL_FAILS, standing=same, file=file, line=selected.line,
                   section=phase, subject=f"drill {head.name}",
                   detail=f"{head.verdict.value} in {phase}: {head.reason}",
                   base_detail=base_detail)
