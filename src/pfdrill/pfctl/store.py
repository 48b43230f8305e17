"""pfctl's incident store: one SQLite file under the state directory.

Incidents and their timeline, status-page updates, post-mortems, meetings,
policy-config revisions, registered tests, chaos schedules, policy
validations and alert-rule edits. Every write is its own transaction, so a
drill reading the store from another process sees complete rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.history import sqlite
from pfdrill.model.evidence import IncidentRecord

DB_FILE = "pfctl.db"
INCIDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")  # fullmatch: `$` passes a final "\n"
INCIDENT_STATUSES = ("open", "investigating", "identified", "mitigated", "monitoring",
                     "resolved", "closed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY, severity TEXT NOT NULL, status TEXT NOT NULL, description TEXT NOT NULL,
  resolution TEXT NOT NULL DEFAULT '', root_cause TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, resolved_at TEXT);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id TEXT, at TEXT NOT NULL, kind TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS status_updates (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, status TEXT NOT NULL,
  message TEXT NOT NULL, incident_id TEXT);
CREATE TABLE IF NOT EXISTS postmortems (
  incident_id TEXT PRIMARY KEY, scheduled_for TEXT, calendar_file TEXT, document TEXT,
  prepared_at TEXT);
CREATE TABLE IF NOT EXISTS meetings (
  id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, starts_at TEXT NOT NULL,
  file TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS config_revisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, env TEXT NOT NULL, at TEXT NOT NULL, source TEXT NOT NULL,
  data TEXT NOT NULL, deployed_at TEXT);
CREATE TABLE IF NOT EXISTS tests (
  suite TEXT NOT NULL, name TEXT NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (suite, name));
CREATE TABLE IF NOT EXISTS chaos_schedules (
  scenario TEXT PRIMARY KEY, frequency TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS validations (
  rule TEXT PRIMARY KEY, enabled INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, rule TEXT NOT NULL,
  detail TEXT NOT NULL);
"""


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclasses.dataclass(frozen=True)
class Event:
    at: str
    kind: str
    detail: str
    incident_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_incident_id(value: str) -> str:
    if not INCIDENT_ID.fullmatch(value or ""):
        hint = " (is $INCIDENT_ID empty?)" if not value or value.startswith("-") else ""
        raise InvalidInput(f"--incident-id {value!r} is not an incident id{hint}")
    return value


class Store:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / DB_FILE
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return sqlite.session(self.path)

    def query(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._db() as db:
            return list(db.execute(sql, args))

    # incidents ------------------------------------------------------------------------
    def create_incident(self, incident_id: str, severity: str, description: str) -> None:
        t = now()
        try:
            with self._db() as db:
                db.execute("INSERT INTO incidents (id, severity, status, description, created_at,"
                           " updated_at) VALUES (?, ?, 'open', ?, ?, ?)",
                           (incident_id, severity, description, t, t))
                db.execute("INSERT INTO events (incident_id, at, kind, detail) VALUES (?,?,?,?)",
                           (incident_id, t, "declared", f"{severity}: {description}"))
        except sqlite3.IntegrityError:
            raise InvalidInput(f"incident {incident_id} already exists") from None

    def incident(self, incident_id: str) -> sqlite3.Row:
        rows = self.query("SELECT * FROM incidents WHERE id = ?", incident_id)
        if not rows:
            known = [r["id"] for r in self.query("SELECT id FROM incidents ORDER BY created_at")]
            raise InvalidInput(f"incident {incident_id} does not exist "
                               f"(known: {', '.join(known) or 'none'})")
        return rows[0]

    def latest_open(self) -> str | None:
        rows = self.query("SELECT id FROM incidents WHERE status NOT IN ('resolved','closed')"
                          " ORDER BY created_at DESC LIMIT 1")
        return str(rows[0]["id"]) if rows else None

    def update_incident(self, incident_id: str, **fields: str | None) -> list[str]:
        self.incident(incident_id)
        changes = {k: v for k, v in fields.items() if v is not None}
        if not changes:
            raise InvalidInput("nothing to update: give --status, --resolution, --severity or "
                               "--root-cause")
        if "status" in changes and changes["status"] not in INCIDENT_STATUSES:
            raise InvalidInput(f"--status {changes['status']!r} is not one of "
                               f"{', '.join(INCIDENT_STATUSES)}")
        t = now()
        sets = ", ".join(f"{k} = ?" for k in changes)
        values: list[Any] = list(changes.values())
        if changes.get("status") in ("resolved", "closed"):
            sets += ", resolved_at = COALESCE(resolved_at, ?)"
            values.append(t)
        with self._db() as db:
            db.execute(f"UPDATE incidents SET {sets}, updated_at = ? WHERE id = ?",
                       (*values, t, incident_id))
            for k, v in changes.items():
                db.execute("INSERT INTO events (incident_id, at, kind, detail) VALUES (?,?,?,?)",
                           (incident_id, t, k, v))
        return [f"{k}={v}" for k, v in changes.items()]

    def add_event(self, incident_id: str | None, kind: str, detail: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO events (incident_id, at, kind, detail) VALUES (?,?,?,?)",
                       (incident_id, now(), kind, detail))

    def events(self, incident_id: str) -> list[Event]:
        return [Event(r["at"], r["kind"], r["detail"], r["incident_id"]) for r in self.query(
            "SELECT * FROM events WHERE incident_id = ? OR incident_id IS NULL ORDER BY at, id",
            incident_id)]

    def incident_record(self, incident_id: str) -> IncidentRecord:
        """The incident as the drill engine reads it."""
        row = self.incident(incident_id)
        pm = self.query("SELECT * FROM postmortems WHERE incident_id = ?", incident_id)
        return IncidentRecord(
            incident_id=row["id"], severity=row["severity"], status=row["status"],
            created_wall=row["created_at"], resolved_wall=row["resolved_at"],
            description=row["description"], root_cause=row["root_cause"],
            resolution=row["resolution"],
            postmortem_wall=pm[0]["scheduled_for"] if pm else None,
            postmortem_document=pm[0]["document"] if pm else None)

    # the rest ----------------------------------------------------------------------------
    def add_status(self, status: str, message: str, incident_id: str | None) -> None:
        with self._db() as db:
            db.execute("INSERT INTO status_updates (at, status, message, incident_id) "
                       "VALUES (?,?,?,?)", (now(), status, message, incident_id))
        if incident_id:
            self.add_event(incident_id, "status_page", f"{status}: {message}".rstrip(": "))

    def last_status(self) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM status_updates ORDER BY id DESC LIMIT 1")
        return rows[0] if rows else None

    def schedule_postmortem(self, incident_id: str, when: str, calendar: str) -> None:
        self.incident(incident_id)
        with self._db() as db:
            db.execute("INSERT INTO postmortems (incident_id, scheduled_for, calendar_file) "
                       "VALUES (?,?,?) ON CONFLICT(incident_id) DO UPDATE SET "
                       "scheduled_for = excluded.scheduled_for, "
                       "calendar_file = excluded.calendar_file", (incident_id, when, calendar))
        self.add_event(incident_id, "postmortem_scheduled", when)

    def postmortem_prepared(self, incident_id: str, document: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO postmortems (incident_id, document, prepared_at) "
                       "VALUES (?,?,?) ON CONFLICT(incident_id) DO UPDATE SET "
                       "document = excluded.document, prepared_at = excluded.prepared_at",
                       (incident_id, document, now()))
        self.add_event(incident_id, "postmortem_prepared", document)

    def add_meeting(self, topic: str, starts_at: str, file: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO meetings (topic, starts_at, file, created_at) VALUES "
                       "(?,?,?,?)", (topic, starts_at, file, now()))

    def add_revision(self, env: str, source: str, data: dict[str, str]) -> int:
        with self._db() as db:
            cur = db.execute("INSERT INTO config_revisions (env, at, source, data) "
                             "VALUES (?,?,?,?)", (env, now(), source, json.dumps(data)))
            return int(cur.lastrowid or 0)

    def revision(self, env: str, rev: int) -> dict[str, str]:
        rows = self.query("SELECT data FROM config_revisions WHERE env = ? AND id = ?", env, rev)
        if not rows:
            raise InvalidInput(f"no stored config revision {rev} for {env}")
        data: dict[str, str] = json.loads(rows[0]["data"])
        return data

    def mark_deployed(self, rev: int) -> None:
        with self._db() as db:
            db.execute("UPDATE config_revisions SET deployed_at = ? WHERE id = ?", (now(), rev))

    def add_test(self, suite: str, name: str) -> bool:
        with self._db() as db:
            cur = db.execute("INSERT OR IGNORE INTO tests (suite, name, added_at) VALUES (?,?,?)",
                             (suite, name, now()))
            return cur.rowcount > 0

    def tests(self, suite: str) -> list[str]:
        return [r["name"] for r in self.query("SELECT name FROM tests WHERE suite = ? "
                                              "ORDER BY added_at", suite)]

    def set_chaos(self, scenario: str, frequency: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO chaos_schedules (scenario, frequency, updated_at) VALUES "
                       "(?,?,?) ON CONFLICT(scenario) DO UPDATE SET frequency = "
                       "excluded.frequency, updated_at = excluded.updated_at",
                       (scenario, frequency, now()))

    def set_validation(self, rule: str, enabled: bool) -> None:
        with self._db() as db:
            db.execute("INSERT INTO validations (rule, enabled, updated_at) VALUES (?,?,?) "
                       "ON CONFLICT(rule) DO UPDATE SET enabled = excluded.enabled, "
                       "updated_at = excluded.updated_at", (rule, int(enabled), now()))

    def add_alert_change(self, kind: str, rule: str, detail: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO alert_changes (at, kind, rule, detail) VALUES (?,?,?,?)",
                       (now(), kind, rule, detail))
