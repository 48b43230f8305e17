"""Runbook coverage: which commands ran and succeeded, failed, or could not be executed, and why.

:func:`summarise` counts; :func:`table` renders the plain-text table
``pfdrill runbook check`` prints, ending with the shell code it deliberately
did not run because it does not render as a fenced block (in a comment,
indented, quoted); :func:`failures` names each failure by section, line and
command, which is what a CI log needs to show.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from pfdrill.model.evidence import CommandOutcome
from pfdrill.model.runbook import RunbookRun

_MARK = {CommandOutcome.OK: "ok", CommandOutcome.FAILED: "FAILED",
         CommandOutcome.NOT_EXECUTABLE: "not-exec", CommandOutcome.SKIPPED: "skipped"}


@dataclasses.dataclass(frozen=True)
class Summary:
    total: int
    ok: int
    failed: int
    not_executable: int
    skipped: int
    expectations: int
    expectations_failed: int
    reasons_not_executable: tuple[tuple[str, int], ...]  # (reason, count), most common first

    @property
    def executed_share(self) -> float:
        """Share of commands that ran and succeeded."""
        return self.ok / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, object]:
        d = dataclasses.asdict(self)
        d["reasons_not_executable"] = [list(r) for r in self.reasons_not_executable]
        d["executed_share"] = round(self.executed_share, 4)
        return d


def summarise(run: RunbookRun) -> Summary:
    counts = Counter(r.outcome for r in run.results)
    reasons = Counter(_reason_class(r.reason) for r in run.results
                      if r.outcome is CommandOutcome.NOT_EXECUTABLE)
    return Summary(
        total=len(run.results), ok=counts[CommandOutcome.OK],
        failed=counts[CommandOutcome.FAILED],
        not_executable=counts[CommandOutcome.NOT_EXECUTABLE],
        skipped=counts[CommandOutcome.SKIPPED],
        expectations=sum(1 for e in run.expectations if not e.skipped),
        expectations_failed=sum(1 for e in run.expectations if not e.ok),
        reasons_not_executable=tuple(reasons.most_common()),
    )


def _reason_class(reason: str) -> str:
    """Group reasons that differ only in a file name or host."""
    if reason.startswith("needs the operator-written file"):
        return "needs an operator-written input file"
    if "nothing leaves the drill" in reason:
        return "names a host other than 127.0.0.1"
    return reason


def failures(run: RunbookRun) -> list[str]:
    """One line per failed command or unmet expectation: section, line, command, reason."""
    out = []
    for r in run.results:
        if r.outcome is CommandOutcome.FAILED:
            out.append(f"{r.command.section}: line {r.command.line}: "
                       f"`{r.command.short(80)}`: {r.reason}")
    for e in run.expectations:
        if not e.ok:
            after = (f" after line {e.after_line} `{e.after_command}`"
                     if e.after_line is not None else "")
            out.append(f"{e.section}: line {e.line}: expected {e.text.removeprefix('expect ')}"
                       f"{after}, observed {e.observed}")
    return out


def table(run: RunbookRun, width: int = 60) -> str:
    rows = [("OUTCOME", "LINE", "INTENT", "SECS", "COMMAND", "REASON")]
    section = None
    lines: list[str] = []
    for r in run.results:
        if r.command.section != section:
            section = r.command.section
            rows.append(("", "", "", "", f"## {section}", ""))
        rows.append((_MARK[r.outcome], str(r.command.line), r.intent.value,
                     f"{r.duration_s:.1f}", r.command.short(width), r.reason[:140]))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        if row[4].startswith("## ") and not row[0]:
            lines.append(row[4][3:])
            continue
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(row[:5])) + "  " + row[5])
    if run.expectations:
        lines.append("")
        lines.append("EXPECTATIONS")
        for e in run.expectations:
            mark = "skipped" if e.skipped else ("ok" if e.ok else "FAILED")
            detail = e.skipped or e.observed
            lines.append(f"{mark:<8} {e.line:>4}  {e.section}: {e.text}  ({detail})")
    if run.not_run:
        lines.append("")
        lines.append("NOT RUN (only what renders as a fenced shell block runs)")
        lines.extend(f"{b.describe()}  [{b.section}] `{b.first_line[:width]}`"
                     for b in run.not_run)
    s = summarise(run)
    lines.append("")
    lines.append(f"{s.total} commands: {s.ok} ok, {s.failed} failed, "
                 f"{s.not_executable} not executable"
                 + (f", {s.skipped} skipped" if s.skipped else "")
                 + f" ({s.executed_share:.0%} ran and succeeded)"
                 + (f"; expectations: {s.expectations - s.expectations_failed}/"
                    f"{s.expectations} met" if s.expectations else ""))
    return "\n".join(lines)
