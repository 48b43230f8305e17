"""What ``pfdrill gate`` found: how a runbook changed, which drills it selected, and its verdict.

The gate judges a change, not a file: every failure it reports is either a
*regression* (introduced by the change: it held at the base revision) or
*standing* (it fails at the base too — known, not introduced by this change).
Records only; :mod:`pfdrill.gate` computes them.
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.model.codec import Record
from pfdrill.model.header import RecordHeader
from pfdrill.model.runbook import Command, NotRunBlock


class Change(enum.Enum):
    SAME = "same"
    EDITED = "edited"
    ADDED = "added"
    REMOVED = "removed"
    MOVED = "moved"  # the same command, now in another section


@dataclasses.dataclass(frozen=True)
class CommandChange(Record):
    """A command at the base paired with its counterpart at the head (None when there is none)."""

    change: Change
    base: Command | None = None
    head: Command | None = None

    @property
    def command(self) -> Command:
        found = self.head or self.base
        assert found is not None  # a pair always has at least one side
        return found


@dataclasses.dataclass(frozen=True)
class SectionChange(Record):
    """A section matched by its heading path; ``change`` is SAME when nothing that runs changed."""

    name: str
    change: Change
    base_line: int | None = None
    head_line: int | None = None
    commands: tuple[CommandChange, ...] = ()
    expectations_added: tuple[str, ...] = ()
    expectations_removed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.change is not Change.SAME

    def describe(self) -> str:
        """``Recovery Procedures / Performance Recovery: 1 command edited, 1 added``."""
        if self.change in (Change.ADDED, Change.REMOVED):
            return f"{self.name}: section {self.change.value}"
        counts: dict[str, int] = {}
        for c in self.commands:
            if c.change is not Change.SAME:
                counts[c.change.value] = counts.get(c.change.value, 0) + 1
        parts = [f"{n} command{'s' if n > 1 else ''} {what}" for what, n in counts.items()]
        if self.expectations_added:
            parts.append(f"{len(self.expectations_added)} expectation(s) added")
        if self.expectations_removed:
            parts.append(f"{len(self.expectations_removed)} expectation(s) removed")
        return f"{self.name}: {', '.join(parts) or 'unchanged'}"


@dataclasses.dataclass(frozen=True)
class RunbookDiff(Record):
    base: str  # the runbook's path at the base ("" when it did not exist there)
    head: str
    base_sha256: str
    head_sha256: str
    sections: tuple[SectionChange, ...] = ()
    # shell code the head added that does not run (in a comment, quote or indented block):
    # nothing to judge, but a reviewer should know it is there
    not_run_added: tuple[NotRunBlock, ...] = ()

    @property
    def identical(self) -> bool:
        return self.base_sha256 == self.head_sha256

    @property
    def changed(self) -> tuple[SectionChange, ...]:
        return tuple(s for s in self.sections if s.changed)


class FindingKind(enum.Enum):
    """What a failure is, in the words a reviewer reads."""

    COMMAND_FAILS = "command fails"  # a command that succeeded at the base fails now
    NEW_COMMAND_FAILS = "new command fails"  # a command the change added fails
    EXPECTATION_UNMET = "expectation unmet"  # a stated expectation met at the base is not now
    CHANGE_REMOVED = "change removed"  # a change or notification the base made is gone
    CHANGE_UNREACHABLE = "change unreachable"  # still written, no longer runs
    SECTION_MISSING = "section missing"  # a section a drill runs no longer exists
    DRILL_FAILS = "drill fails"  # a selected drill's verdict, judged against the base
    # A drill that could not start (its preflight: steady state, lease) says nothing about
    # the change; the environment was not fit to judge it (exit 3, not 1).
    DRILL_NOT_JUDGED = "drill not judged"


@dataclasses.dataclass(frozen=True)
class Finding(Record):
    kind: FindingKind
    standing: bool  # it fails at the base too: known, not introduced by this change
    file: str
    line: int | None
    section: str
    subject: str  # the command (first line), the expectation, the section or the drill
    detail: str  # what happened at the head
    severity: str = ""  # the $SEVERITY the runbook ran under ("" when not severity-bound)
    base_detail: str = ""  # what happened at the base

    @property
    def location(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def describe(self) -> str:
        under = f" [SEVERITY={self.severity}]" if self.severity else ""
        where = f" ({self.section})" if self.section else ""
        return f"{self.location}: {self.kind.value}{under}{where}: {self.subject} — {self.detail}"


class Side(enum.Enum):
    BASE = "base"
    HEAD = "head"


@dataclasses.dataclass(frozen=True)
class CheckSummary(Record):
    """One run of a whole runbook under one severity, at the base or the head."""

    side: Side
    severity: str  # the $SEVERITY it ran under, as the runbook spells it
    runbook: str
    sha256: str
    commands: int
    ok: int
    failed: int
    not_executable: int
    expectations_unmet: int
    duration_s: float
    cached: bool = False
    sandbox: str = ""


@dataclasses.dataclass(frozen=True)
class RunbookVerdict(Record):
    """The gate's runbook check of one runbook: how it changed and what ran."""

    diff: RunbookDiff
    severities: tuple[str, ...]
    checks: tuple[CheckSummary, ...] = ()
    note: str = ""  # e.g. "unchanged: one run serves as base and head"


@dataclasses.dataclass(frozen=True)
class Selected(Record):
    """A drill the change touches, and why."""

    suite: str  # the suite's name
    file: str  # the drill file, repo-relative
    drill: str
    reasons: tuple[str, ...]
    line: int | None = None  # the drill's entry in the drill file


@dataclasses.dataclass(frozen=True)
class DrillOutcome(Record):
    """A selected drill's verdict at the head, and at the base when the head failed."""

    drill: Selected
    head_verdict: str  # model.result.Verdict values
    head_phase: str = ""
    head_reason: str = ""
    base_verdict: str = ""  # "" when not run: the head passed, or the drill is new
    base_phase: str = ""
    base_reason: str = ""
    base_cached: bool = False
    duration_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class Timing(Record):
    """Where the gate's wall time went, in seconds."""

    setup_s: float = 0.0  # environment up (cluster, fabric, observability)
    base_check_s: float = 0.0
    head_check_s: float = 0.0
    drills_s: float = 0.0  # the selected drills at the head
    base_drills_s: float = 0.0  # the base runs of drills that failed at the head
    total_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class GateResult(Record):
    header: RecordHeader
    repo: str
    base_name: str
    base_commit: str
    head_commit: str
    changed_files: tuple[str, ...]
    runbooks: tuple[RunbookVerdict, ...] = ()
    selected: tuple[Selected, ...] = ()
    drills: tuple[DrillOutcome, ...] = ()
    findings: tuple[Finding, ...] = ()
    strict: bool = False
    timing: Timing = dataclasses.field(default_factory=Timing)
    skipped: str = ""  # why no drill ran although some were selected (--fail-fast)
    notes: tuple[str, ...] = ()  # what the gate had to work around (a base that does not parse)

    @property
    def regressions(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings
                     if not f.standing and f.kind is not FindingKind.DRILL_NOT_JUDGED)

    @property
    def known(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.standing)

    @property
    def unjudged(self) -> tuple[Finding, ...]:
        """Drills the environment kept from judging the change."""
        return tuple(f for f in self.findings if f.kind is FindingKind.DRILL_NOT_JUDGED)

    @property
    def passed(self) -> bool:
        return not self.regressions and not self.unjudged and not (self.strict and self.known)
