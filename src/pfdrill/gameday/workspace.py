"""The responders' side of a game day: their working directory, their incident store, their commands.

:class:`Workspace` is a runbook sandbox (:mod:`pfdrill.runbook.sandbox`) set up
for people: a checkout of the policy repository with ``./pfctl``, ``kubectl``
and ``curl`` wrappers first on ``PATH`` (every call is written to an audit
journal, webhook URLs redacted), and pfctl configured with the game day's
own incident store under the state dir (it outlives the temporary sandbox:
action items are closed there weeks later). ``pfdrill gameday env`` prints
what to export.

From that store and journal come :class:`IncidentLog` (the incidents the
watch times), :class:`IncidentPoller` (incident-store updates) and
:class:`CommandPoller` (the commands responders ran), for the dashboard and
the after-action report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import yaml

from pfdrill.cluster.client import ClusterClient
from pfdrill.dashboard.world import Surroundings
from pfdrill.drill import live
from pfdrill.gameday.store import GameDayDir, write_private
from pfdrill.model.evidence import IncidentRecord
from pfdrill.model.live import Observation, Source
from pfdrill.runbook import parser, sandbox
from pfdrill.runbook.inputs import DrillVars, Environment, Options

# What responders export (``pfdrill gameday env``): the sandbox's environment minus its
# HOME, proxies and drill variables — SEVERITY and INCIDENT_ID are theirs to set.
EXPORTED = ("KUBECONFIG", "PFCTL_CONFIG", "PFCTL_TIMELINE", "PFDRILL_AUDIT", "PFDRILL_CONTEXT",
            "PFDRILL_REAL_KUBECTL", "PFDRILL_REAL_CURL", "PFDRILL_SANDBOX", "PFDRILL_DIR",
            "PFDRILL_STATE_DIR", "PFDRILL_CACHE_DIR", "PFDRILL_NAMESPACE",
            "PFDRILL_WATCH_CONFIGMAP", "PFDRILL_WATCHER_SELECTOR", "PFDRILL_CONFIG_SECONDS",
            "PFDRILL_SCHEDULE", "PFDRILL_CA_DIR", "SLACK_WEBHOOK", "SECURITY_WEBHOOK",
            "STAKEHOLDER_WEBHOOK", "TEAM_WEBHOOK")
STREAM_S = 3600.0  # `kubectl logs -f` of a person runs until they stop it


@dataclasses.dataclass(frozen=True)
class Workspace:
    root: Path
    env: dict[str, str]

    @property
    def audit(self) -> Path:
        return Path(self.env["PFDRILL_AUDIT"])

    def exports(self) -> str:
        """Shell lines a responder evaluates: ``eval "$(pfdrill gameday env)"``."""
        import shlex

        lines = [f"export {k}={shlex.quote(v)}" for k, v in sorted(self.env.items())
                 if k != "PATH"]
        lines.append(f"export PATH={shlex.quote(self.env['PATH'])}:\"$PATH\"")
        lines.append(f"cd {shlex.quote(str(self.root))}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {"root": str(self.root), "env": dict(self.env)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Workspace:
        env = data.get("env")
        return cls(root=Path(str(data["root"])),
                   env={str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {})

    @classmethod
    def create(cls, around: Surroundings, client: ClusterClient, runbook: str,
               gdir: GameDayDir, kubectl: str) -> Workspace:
        env = Environment(kubeconfig=around.kubeconfig, context=around.context,
                          namespace=around.namespace, sink_url=around.sink_url,
                          prometheus_url=around.prometheus_url,
                          alertmanager_url=around.alertmanager_url,
                          rules_file=around.rules_file,
                          rules_configmap=around.rules_configmap, kubectl=kubectl,
                          runtime_dir=around.runtime_dir)
        box = sandbox.create(env, client, parser.parse_file(runbook), DrillVars(),
                             Options(stream_seconds=STREAM_S), announce=False)
        # the sandbox's pfctl config, with the game day's incident store (which outlives it)
        settings = yaml.safe_load((box.private / "pfctl.yaml").read_text(encoding="utf-8"))
        settings["state_dir"] = str(gdir.pfctl_state)
        config = yaml.safe_dump(settings, sort_keys=False)
        write_private(box.private / "pfctl.yaml", config)
        write_private(gdir.pfctl_config, config)
        exported = {k: box.env[k] for k in EXPORTED if box.env.get(k)}
        exported["PFDRILL_STREAM_SECONDS"] = f"{STREAM_S:g}"
        exported["PATH"] = str(box.private / "bin")
        return cls(root=box.root, env=exported)


def _connect(db: Path) -> sqlite3.Connection | None:
    if not db.is_file():
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    conn.row_factory = sqlite3.Row
    return conn


def _has(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                        (table,)).fetchone() is not None


class IncidentLog:
    """The incidents in the responders' store (pfctl's SQLite file, read-only)."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def declared(self, since: dt.datetime) -> Sequence[IncidentRecord]:
        conn = _connect(self.db)
        if conn is None:
            return []
        try:
            if not _has(conn, "incidents"):
                return []
            rows = conn.execute("SELECT id, severity, status, description, resolution, "
                                "root_cause, created_at, resolved_at FROM incidents "
                                "ORDER BY created_at, rowid").fetchall()
        finally:
            conn.close()
        return [IncidentRecord(incident_id=r["id"], severity=r["severity"], status=r["status"],
                               created_wall=r["created_at"], resolved_wall=r["resolved_at"],
                               description=r["description"], resolution=r["resolution"],
                               root_cause=r["root_cause"])
                for r in rows if dt.datetime.fromisoformat(r["created_at"]) >= since]


class IncidentPoller:
    """Updates to the responders' incident store: declared, status, severity, post-mortem..."""

    source = Source.INCIDENTS

    def __init__(self, db: Path, *, seen: int = 0) -> None:
        self.db = db
        self._last = 0
        self._skip = seen  # rows a previous process of this game day reported already

    def poll(self, wall: float) -> list[Observation]:
        conn = _connect(self.db)
        if conn is None:
            return []
        try:
            if not _has(conn, "events"):
                return []
            rows = conn.execute("SELECT id, incident_id, at, kind, detail FROM events "
                                "WHERE id > ? ORDER BY id", (self._last,)).fetchall()
        finally:
            conn.close()
        if self._skip:
            skipped, rows = rows[:self._skip], rows[self._skip:]
            self._skip -= len(skipped)
            if skipped:
                self._last = max(self._last, int(skipped[-1]["id"]))
        out = []
        for r in rows:
            self._last = max(self._last, int(r["id"]))
            at = dt.datetime.fromisoformat(r["at"]).timestamp()
            level = "warning" if r["kind"] == "declared" else "info"
            out.append(Observation(at, Source.INCIDENTS,
                                   "incident", r["incident_id"] or "-",
                                   f"incident {r['incident_id'] or '-'}: {r['kind']} "
                                   f"{r['detail']}".rstrip(), level))
        return out


class CommandPoller:
    """The commands the responders ran, from the wrappers' audit journal (an ``end`` record each)."""

    source = Source.RESPONDER

    def __init__(self, audit: Path, *, seen: int = 0) -> None:
        self.audit = audit
        self._offset = 0
        self._skip = seen  # commands a previous process of this game day reported already

    def poll(self, wall: float) -> list[Observation]:
        lines, self._offset = live.whole_lines(self.audit, self._offset)
        out = []
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if not isinstance(rec, dict) or rec.get("phase") != "end":
                continue
            if self._skip:
                self._skip -= 1
                continue
            argv = " ".join(str(a) for a in rec.get("argv") or ())
            tool = str(rec.get("tool", ""))
            rc = rec.get("rc")
            started = str(rec.get("started") or "")
            at = dt.datetime.fromisoformat(started).timestamp() if started else wall
            out.append(Observation(at, Source.RESPONDER, "command", tool,
                                   f"{tool} {argv} → exit {rc}",
                                   "warning" if rc not in (0, None) else "info"))
        return out


def save(gdir: GameDayDir, ws: Workspace) -> None:
    write_private(gdir.path / "workspace.json", json.dumps(ws.to_dict()))


def load(gdir: GameDayDir) -> Workspace | None:
    path = gdir.path / "workspace.json"
    if not path.is_file():
        return None
    ws = Workspace.from_dict(json.loads(path.read_text("utf-8")))
    return ws if ws.root.is_dir() and os.access(ws.root, os.W_OK) else None
