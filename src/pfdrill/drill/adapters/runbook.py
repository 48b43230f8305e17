"""The runbook executor's drill front door: one sandbox per runbook, its incident store and files."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from pfdrill.drill.ports import CommandRun, SectionRun
from pfdrill.model.evidence import Artifact, IncidentRecord
from pfdrill.runbook.runner import Runner

_MAGIC = {b"%PDF": "pdf", b"BEGIN:VCALENDAR": "ics", b"\x1f\x8b": "tar.gz"}


class SandboxRunbook:
    """The runbook executor's drill front door: one sandbox per runbook for the whole drill."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._path: str | None = None

    def validate(self, runbook: str, sections: Sequence[str]) -> None:
        self._runner.validate(runbook, sections)

    def run_section(self, runbook: str, section: str, env: Mapping[str, str]) -> SectionRun:
        self._path = runbook
        run = self._runner.run_section(runbook, section, env)
        cmds = tuple(CommandRun(command=r.command.text, outcome=r.outcome,
                                exit_code=r.exit_status,
                                started=dt.datetime.fromisoformat(r.started_wall),
                                duration_s=r.duration_s, output=r.to_evidence().output,
                                reason=r.reason, line=r.command.line) for r in run.results)
        sections = run.section_evidence()
        reason = "; ".join(f"{e.section}: {e.reason}" for e in sections if not e.ok)
        return SectionRun(section=section, ok=run.ok, commands=cmds, reason=reason)

    @property
    def root(self) -> Path | None:
        return self._runner.sandbox(self._path) if self._path else None

    def close(self) -> None:
        self._runner.close()

    # evidence ---------------------------------------------------------------------------
    def incident(self, incident_id: str) -> IncidentRecord | None:
        root = self.root
        if root is None:
            return None
        db = root / ".pfdrill" / "pfctl-state" / "pfctl.db"
        if not db.is_file():
            return None
        # pfctl's store (pfdrill.pfctl.store) sits in a higher layer; read its table directly
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT id, severity, status, description, resolution, root_cause,"
                               " created_at, resolved_at FROM incidents WHERE id = ?",
                               (incident_id,)).fetchone()
            pm = conn.execute("SELECT scheduled_for, document FROM postmortems WHERE "
                              "incident_id = ?", (incident_id,)).fetchone()
        if row is None:
            return None
        return IncidentRecord(incident_id=row[0], severity=row[1], status=row[2],
                              description=row[3], resolution=row[4], root_cause=row[5],
                              created_wall=row[6], resolved_wall=row[7],
                              postmortem_wall=pm[0] if pm else None,
                              postmortem_document=pm[1] if pm else None)

    def artifacts(self) -> Sequence[Artifact]:
        root = self.root
        if root is None:
            return []
        out = []
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root)
            if not p.is_file() or rel.parts[0] in (".git", ".pfdrill"):
                continue
            data = p.read_bytes()
            kind = next((k for m, k in _MAGIC.items() if data.startswith(m)),
                        p.suffix.lstrip(".") or "file")
            out.append(Artifact(name=str(rel), path=str(p),
                                sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                                kind=kind))
        return out

    def read_text(self, artifact: Artifact) -> str:
        return Path(artifact.path).read_text(encoding="utf-8", errors="replace")


class SandboxIncidents:
    def __init__(self, runbook: SandboxRunbook) -> None:
        self._rb = runbook

    def incident(self, incident_id: str) -> IncidentRecord | None:
        return self._rb.incident(incident_id)


class SandboxArtifacts:
    def __init__(self, runbook: SandboxRunbook) -> None:
        self._rb = runbook

    def artifacts(self) -> Sequence[Artifact]:
        return self._rb.artifacts()

    def read_text(self, artifact: Artifact) -> str:
        return self._rb.read_text(artifact)
