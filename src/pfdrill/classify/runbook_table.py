"""The runbook's severity table: which bullets it lists under which severity.

The thresholds file must cover every bullet; this module says what the bullets
are, either from a runbook's Markdown ("### Severity Levels") or from the copy
of the seed runbook's table built in here.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from pfdrill.errors import InvalidInput
from pfdrill.model.severity import Severity

_LEVEL = re.compile(r"^\s*\d+\.\s+\*\*(SEV-\d)\b[^*]*\*\*\s*$")
_BULLET = re.compile(r"^\s+[-*]\s+(.+?)\s*$")
_HEADING = re.compile(r"^(#+)\s+(.*?)\s*$")


@dataclasses.dataclass(frozen=True)
class RunbookTable:
    """Bullets per severity, in the runbook's order."""

    items: dict[Severity, tuple[str, ...]]
    source: str = "built-in copy of the seed runbook's table"

    def severity_of(self, item: str) -> Severity | None:
        key = normalise(item)
        for severity, bullets in self.items.items():
            if any(normalise(b) == key for b in bullets):
                return severity
        return None


def normalise(text: str) -> str:
    """Compare bullets loosely: case, spacing and dash style do not matter."""
    return re.sub(r"\s+", " ", text.replace("–", "-").replace("—", "-")).strip().lower()


BUILTIN = RunbookTable(items={
    Severity.SEV1: (
        "Policy enforcement completely disabled",
        "High assurance mode violations",
        "Bridge guarantee failures",
        "Certificate verification failures > 1%",
    ),
    Severity.SEV2: (
        "Performance degradation > 50%",
        "Reject rate spikes > 10x normal",
        "Witness validation failures > 5%",
        "NI monitor reject rate > 1/sec",
    ),
    Severity.SEV3: (
        "Performance degradation 20-50%",
        "Reject rate spikes 2-10x normal",
        "Minor configuration issues",
        "Non-critical alert thresholds exceeded",
    ),
    Severity.SEV4: (
        "Minor performance issues",
        "Informational alerts",
        "Documentation updates needed",
    ),
})


def parse(text: str, file: str | Path) -> RunbookTable:
    """Read the "Severity Levels" list of a runbook in Markdown."""
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines)
         if (m := _HEADING.match(line)) and normalise(m.group(2)) == "severity levels"),
        None,
    )
    if start is None:
        raise InvalidInput("no '### Severity Levels' section in the runbook", file=file)
    items: dict[Severity, list[str]] = {}
    current: Severity | None = None
    for number, line in enumerate(lines[start + 1:], start=start + 2):
        if _HEADING.match(line):
            break
        if level := _LEVEL.match(line):
            current = Severity.parse(level.group(1))
            items.setdefault(current, [])
        elif (bullet := _BULLET.match(line)) and current is not None:
            items[current].append(bullet.group(1))
        elif line.strip() and current is None:
            raise InvalidInput(
                "expected '1. **SEV-1 (...)**' to open the severity list", file=file,
                line=number, text=line,
            )
    if not items:
        raise InvalidInput("the 'Severity Levels' section lists no severities", file=file)
    return RunbookTable(items={s: tuple(b) for s, b in items.items()}, source=str(file))


def load(path: Path) -> RunbookTable:
    if not path.is_file():
        raise InvalidInput("runbook does not exist", file=path)
    return parse(path.read_text(encoding="utf-8"), path)
