"""Reading the wrappers' audit journal back into :class:`~pfdrill.model.runbook.ToolCall` records.

The journal (JSON lines, see :mod:`pfdrill.runbook.toolwrap`) has a ``start``
and an ``end`` record per call; a call with a start and no end was killed
with its command, and has ``exit_status`` None. ``pfctl`` writes its own
``end`` records (it is pfdrill's own program).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pfdrill.model.runbook import ToolCall


@dataclasses.dataclass(frozen=True)
class Call:
    """A tool call with what the wrapper saw beyond the record (output tails)."""

    record: ToolCall
    stdout: str = ""
    stderr: str = ""
    bounded: bool = False
    malformed: bool = False
    verdict: str = ""  # a watched ConfigMap patch: accepted | refused | unobserved
    verdict_detail: str = ""

    @property
    def failed(self) -> bool:
        return self.record.exit_status not in (0, None) and not self.record.refused


def _call(entry: dict[str, Any], ended: bool) -> Call:
    status = entry.get("rc") if ended else None
    record = ToolCall(
        tool=str(entry.get("tool", "")),
        argv=tuple(str(a) for a in entry.get("argv") or ()),
        exit_status=int(status) if isinstance(status, int) else None,
        started_wall=str(entry.get("started", "")),
        duration_s=float(entry.get("duration") or 0.0),
        note=str(entry.get("note") or ("killed with its command" if not ended else "")),
        http_status=entry.get("http_status") if isinstance(entry.get("http_status"), int) else None,
        refused=bool(entry.get("refused")),
    )
    return Call(record, str(entry.get("stdout") or ""), str(entry.get("stderr") or ""),
                bool(entry.get("bounded")), bool(entry.get("malformed")),
                str(entry.get("verdict") or ""), str(entry.get("verdict_detail") or ""))


def read(path: Path, command_index: str) -> tuple[Call, ...]:
    """The calls one command made, in the order they started."""
    if not path.exists():
        return ()
    starts: dict[int, dict[str, Any]] = {}
    order: list[tuple[int, dict[str, Any], bool]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or str(entry.get("cmd")) != command_index:
            continue
        pid = int(entry.get("pid") or 0)
        if entry.get("phase") == "start":
            starts[pid] = entry
            order.append((pid, entry, False))
        else:
            # An end replaces its start in place, so calls keep their starting order.
            for i, (p, e, done) in enumerate(order):
                if p == pid and not done and e.get("tool") == entry.get("tool"):
                    order[i] = (pid, entry, True)
                    break
            else:
                order.append((pid, entry, True))
    return tuple(_call(e, done) for _, e, done in order)
