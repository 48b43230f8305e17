"""A Markdown runbook as pfdrill reads it, and what running its commands produced.

The parser (:mod:`pfdrill.runbook.parser`) builds :class:`Runbook`; the
executor (:mod:`pfdrill.runbook.executor`) turns each :class:`Command` into a
:class:`CommandResult` — typed evidence of what ran, for how long, what it
printed, which tools it called and whether its intended effect took place.
:meth:`CommandResult.to_evidence` gives the drill engine's compact
:class:`~pfdrill.model.evidence.CommandEvidence`.
"""

from __future__ import annotations

import dataclasses
import enum

from pfdrill.model.codec import Record
from pfdrill.model.evidence import CommandEvidence, CommandOutcome, SectionEvidence
from pfdrill.model.header import RecordHeader

SECTION_SEPARATOR = " / "


class Intent(enum.Enum):
    """What a command is for; it decides how its result is judged.

    Ordered by precedence: a block that both changes and notifies is a change.
    """

    CHANGE = "change"  # kubectl patch/scale/rollout/apply, pfctl config update, rotate ...
    NOTIFICATION = "notification"  # curl to a webhook
    CHECK = "check"  # verification: pfctl validate/health/test, sha256sum, kubectl get
    DOCUMENTATION = "documentation"  # heredoc reports, git commit of docs
    INVESTIGATION = "investigation"  # grep, logs, describe, top, events
    SETUP = "setup"  # variables, cd, git checkout -b

    @property
    def precedence(self) -> int:
        return _PRECEDENCE.index(self)


_PRECEDENCE = tuple(Intent)


@dataclasses.dataclass(frozen=True)
class Command(Record):
    """One command of a runbook: a line, or several kept whole (continuations, if/fi, heredocs)."""

    section: str  # heading path, "Incident Response Actions / Immediate Mitigation"
    line: int  # first line in the Markdown file (1-based)
    end_line: int
    text: str  # exactly as written, without the block's indentation
    description: str = ""  # the comment lines just above it
    language: str = ""  # the code block's language tag ("" when it had none)

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    def short(self, width: int = 72) -> str:
        """One line for tables: the first line, '…' when cut or when more lines follow."""
        head = self.first_line
        more = "\n" in self.text.strip()
        if len(head) > width:
            return head[: width - 1] + "…"
        return head + (" …" if more else "")


@dataclasses.dataclass(frozen=True)
class CodeBlock(Record):
    line: int  # the opening fence
    end_line: int  # the closing fence
    language: str
    shell: bool  # bash commands pfdrill will run
    commands: tuple[Command, ...] = ()


class NotRunReason(enum.Enum):
    """Why shell code that is in a runbook's file does not run: it does not render as a fenced block."""

    HTML_COMMENT = "html-comment"
    RAW_HTML = "raw-html"
    INDENTED_CODE = "indented-code"
    BLOCK_QUOTE = "block-quote"

    @property
    def explanation(self) -> str:
        return _NOT_RUN[self]


_NOT_RUN = {
    NotRunReason.HTML_COMMENT: "inside an HTML comment — not rendered, not run",
    NotRunReason.RAW_HTML: "inside raw HTML — not rendered as code, not run",
    NotRunReason.INDENTED_CODE: "in an indented code block — not a fenced block, not run",
    NotRunReason.BLOCK_QUOTE: "inside a block quote — quoted, not run",
}


@dataclasses.dataclass(frozen=True)
class NotRunBlock(Record):
    """A shell block in the file that pfdrill deliberately does not run, and why.

    Only what renders as a fenced block runs; this record lets a report or a
    CI gate show a reviewer the rest (a block hidden in a comment above all).
    """

    section: str  # the section it sits in, as Section.name
    line: int  # its first line (the opening fence, or the indented block's first line)
    end_line: int
    language: str
    why: NotRunReason
    first_line: str = ""  # its first line of code, for listings

    def summary(self) -> str:
        """``bash block inside an HTML comment — not rendered, not run``."""
        return f"{self.language or 'shell'} block {self.why.explanation}"

    def describe(self) -> str:
        """``line 120: bash block inside an HTML comment — not rendered, not run``."""
        return f"line {self.line}: {self.summary()}"


@dataclasses.dataclass(frozen=True)
class Directive(Record):
    """A ``<!-- pfdrill: ... -->`` comment: an expectation the runbook states about its effect."""

    line: int
    text: str  # what follows "pfdrill:", e.g. "expect configmap policy-config enforcement_mode == enforce"


@dataclasses.dataclass(frozen=True)
class Section(Record):
    path: tuple[str, ...]  # heading texts without their numbering, outermost first
    title: str  # the heading as written
    level: int
    line: int
    blocks: tuple[CodeBlock, ...] = ()
    directives: tuple[Directive, ...] = ()
    not_run: tuple[NotRunBlock, ...] = ()

    @property
    def name(self) -> str:
        return SECTION_SEPARATOR.join(self.path) or "(preamble)"

    @property
    def commands(self) -> tuple[Command, ...]:
        return tuple(c for b in self.blocks if b.shell for c in b.commands)


@dataclasses.dataclass(frozen=True)
class Runbook(Record):
    source: str  # the file it was read from
    encoding: str  # how its bytes were decoded (commands are run re-encoded the same way)
    sha256: str  # of the file's bytes
    title: str
    sections: tuple[Section, ...] = ()
    notes: tuple[str, ...] = ()  # what the parser had to work around (encoding, CRLF ...)

    @property
    def commands(self) -> tuple[Command, ...]:
        return tuple(c for s in self.sections for c in s.commands)

    @property
    def not_run(self) -> tuple[NotRunBlock, ...]:
        return tuple(b for s in self.sections for b in s.not_run)

    @property
    def section_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sections)


@dataclasses.dataclass(frozen=True)
class ToolCall(Record):
    """One call of a wrapped tool (kubectl, curl, pfctl) made by a command, as its wrapper saw it."""

    tool: str
    argv: tuple[str, ...]  # arguments after the tool name, webhook URLs redacted
    exit_status: int | None  # None: still running when the command ended (killed)
    started_wall: str
    duration_s: float
    note: str = ""  # e.g. "bounded: stopped after 3s", "refused: non-local host"
    http_status: int | None = None  # curl only
    refused: bool = False  # the wrapper refused to run it (nothing left 127.0.0.1)


@dataclasses.dataclass(frozen=True)
class EffectCheck(Record):
    """A check that a change took effect, read back from the cluster or the fabric."""

    what: str
    ok: bool
    observed: str
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class CommandResult(Record):
    """Typed evidence of one executed (or not executable) command."""

    command: Command
    intent: Intent
    outcome: CommandOutcome
    reason: str
    exit_status: int | None
    started_wall: str
    at: float  # seconds since the run (or the drill) started, monotonic
    duration_s: float
    stdout: str = ""  # bounded, redacted
    stderr: str = ""
    truncated: bool = False
    bounded: bool = False  # a never-ending command (logs -f, port-forward) stopped on purpose
    pipe_status: tuple[int, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    checks: tuple[EffectCheck, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome is CommandOutcome.OK

    def to_evidence(self) -> CommandEvidence:
        output = (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr)
        return CommandEvidence(
            section=self.command.section, command=self.command.text, outcome=self.outcome,
            exit_code=self.exit_status, at=self.at, duration_s=self.duration_s,
            output=output[-2000:], reason=self.reason, line=self.command.line,
        )


@dataclasses.dataclass(frozen=True)
class ExpectationResult(Record):
    """A runbook's stated expectation, judged after its section ran."""

    section: str
    line: int
    text: str
    ok: bool
    observed: str
    after_line: int | None = None  # the section's last command that ran
    after_command: str = ""
    skipped: str = ""  # why it was not judged ("when SEVERITY == SEV-1" did not hold)


@dataclasses.dataclass(frozen=True)
class RunbookRun(Record):
    """One execution of (part of) a runbook against a drill environment."""

    header: RecordHeader
    runbook: str
    sha256: str
    severity: str
    sections: tuple[str, ...]  # the sections asked for ("" = the whole runbook)
    sandbox: str
    results: tuple[CommandResult, ...] = ()
    expectations: tuple[ExpectationResult, ...] = ()
    not_run: tuple[NotRunBlock, ...] = ()  # shell code in the chosen sections that does not render

    @property
    def ok(self) -> bool:
        return not any(r.outcome is CommandOutcome.FAILED for r in self.results) and all(
            e.ok for e in self.expectations)

    def section_evidence(self) -> tuple[SectionEvidence, ...]:
        """Per section, in order of first appearance; a section passes when none of it failed."""
        order: list[str] = []
        by: dict[str, list[CommandResult]] = {}
        for r in self.results:
            if r.command.section not in by:
                order.append(r.command.section)
                by[r.command.section] = []
            by[r.command.section].append(r)
        out = []
        for name in order:
            failed = [r for r in by[name] if r.outcome is CommandOutcome.FAILED]
            unmet = [e for e in self.expectations if e.section == name and not e.ok]
            reason = "; ".join([*(f"line {r.command.line}: {r.reason}" for r in failed),
                                *(f"line {e.line}: expected {e.text.removeprefix('expect ')}, "
                                  f"observed {e.observed}"
                                  for e in unmet)])
            out.append(SectionEvidence(section=name, ok=not failed and not unmet,
                                       commands=tuple(r.to_evidence() for r in by[name]),
                                       reason=reason))
        return tuple(out)
