"""Action items: the follow-ups of a game day (or any incident), kept until someone closes them.

They live in the incident store the responders used (pfctl's SQLite file,
table ``action_items``), so ``pfdrill gameday action add`` records them and
``pfctl action close`` — weeks later, from the team's usual shell — closes
them; the after-action report reads their state whenever it is rendered.
Every write is its own transaction: SQLite's locking makes writers in
several processes safe.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

from pfdrill.errors import InvalidInput
from pfdrill.history import sqlite
from pfdrill.model.gameday import ActionItem

_SCHEMA = """
CREATE TABLE IF NOT EXISTS action_items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, owner TEXT NOT NULL,
  due TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', inject TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL, closed_at TEXT,
  closed_by TEXT NOT NULL DEFAULT '', resolution TEXT NOT NULL DEFAULT '');
"""
PREFIX = "AI-"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def parse_id(text: str) -> int:
    raw = text.strip().upper()
    digits = raw[len(PREFIX):] if raw.startswith(PREFIX) else raw
    if not digits.isdigit():
        raise InvalidInput(f"{text!r} is not an action item id (e.g. {PREFIX}3)")
    return int(digits)


def check_due(text: str) -> str:
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise InvalidInput(f"--due {text!r} is not a date (YYYY-MM-DD)") from None


class ActionRegister:
    def __init__(self, db: Path) -> None:
        db.parent.mkdir(parents=True, exist_ok=True)
        self.path = db
        with self._db() as conn:
            conn.executescript(_SCHEMA)

    def _db(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return sqlite.session(self.path)

    def add(self, title: str, owner: str, due: str, *, source: str = "",
            inject: str = "") -> ActionItem:
        if not title.strip():
            raise InvalidInput("an action item needs a title")
        if not owner.strip():
            raise InvalidInput("an action item needs an owner (--owner)")
        with self._db() as conn:
            cur = conn.execute("INSERT INTO action_items (title, owner, due, source, inject, "
                               "created_at) VALUES (?,?,?,?,?,?)",
                               (title.strip(), owner.strip(), check_due(due), source, inject,
                                _now()))
            seq = int(cur.lastrowid or 0)
        return self.get(seq)

    def get(self, seq: int) -> ActionItem:
        with self._db() as conn:
            row = conn.execute("SELECT * FROM action_items WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise InvalidInput(f"no action item {PREFIX}{seq}")
        return _item(row)

    def items(self, source: str | None = None) -> tuple[ActionItem, ...]:
        with self._db() as conn:
            rows = (conn.execute("SELECT * FROM action_items ORDER BY seq") if source is None
                    else conn.execute("SELECT * FROM action_items WHERE source = ? ORDER BY seq",
                                      (source,)))
            return tuple(_item(r) for r in rows)

    def close(self, item_id: str, *, by: str, resolution: str = "") -> ActionItem:
        seq = parse_id(item_id)
        item = self.get(seq)
        if item.status == "closed":
            raise InvalidInput(f"{item.id} is already closed ({item.closed_wall} by "
                               f"{item.closed_by})")
        with self._db() as conn:
            conn.execute("UPDATE action_items SET status = 'closed', closed_at = ?, "
                         "closed_by = ?, resolution = ? WHERE seq = ?",
                         (_now(), by, resolution.strip(), seq))
        return self.get(seq)


def _item(row: sqlite3.Row) -> ActionItem:
    return ActionItem(id=f"{PREFIX}{row['seq']}", title=row["title"], owner=row["owner"],
                      due=row["due"], source=row["source"], inject=row["inject"],
                      status=row["status"], created_wall=row["created_at"],
                      closed_wall=row["closed_at"], closed_by=row["closed_by"],
                      resolution=row["resolution"])
