"""The run history: one SQLite row per drill run, appended as each drill finishes.

The file lives under pfdrill's state dir (``<state>/history.sqlite``). Rows
are never updated; a run id and drill name identify one row. SQLite's own
locking makes concurrent appends from two pfdrill processes safe.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from pfdrill.errors import EnvironmentProblem
from pfdrill.model.codec import Record
from pfdrill.model.drill import DrillSpec
from pfdrill.model.observer import BaseObserver
from pfdrill.model.result import DrillResult

FILENAME = "history.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT NOT NULL,
    drill TEXT NOT NULL,
    started_at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    failing_phase TEXT,
    reason TEXT NOT NULL DEFAULT '',
    mttd REAL, time_to_classify REAL, time_to_mitigate REAL, mttr REAL,
    duration REAL NOT NULL,
    profile TEXT NOT NULL,
    severity TEXT NOT NULL,
    context TEXT NOT NULL,
    provider TEXT NOT NULL,
    pfdrill_version TEXT NOT NULL,
    spec_hash TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, drill)
);
CREATE INDEX IF NOT EXISTS runs_by_drill ON runs (drill, started_at);
"""


@dataclasses.dataclass(frozen=True)
class HistoryRow(Record):
    run_id: str
    drill: str
    started_at: str
    verdict: str
    failing_phase: str | None
    reason: str
    mttd: float | None
    time_to_classify: float | None
    time_to_mitigate: float | None
    mttr: float | None
    duration: float
    profile: str
    severity: str
    context: str
    provider: str
    pfdrill_version: str
    spec_hash: str = ""  # the drill as run (spec + runbook text): "unchanged" means equal

    @classmethod
    def of(cls, r: DrillResult) -> HistoryRow:
        m = r.measures
        return cls(run_id=r.run_id, drill=r.name, started_at=r.header.started_at,
                   verdict=r.verdict.value,
                   failing_phase=r.failing_phase.value if r.failing_phase else None,
                   reason=r.reason, mttd=m.mttd, time_to_classify=m.time_to_classify,
                   time_to_mitigate=m.time_to_mitigate, mttr=m.mttr, duration=r.duration_s,
                   profile=r.spec.profile.value, severity=r.spec.expected_severity.value,
                   context=r.header.context, provider=r.header.provider,
                   pfdrill_version=r.header.pfdrill_version, spec_hash=spec_hash(r.spec))

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"


_COLUMNS = tuple(f.name for f in dataclasses.fields(HistoryRow))


def spec_hash(spec: DrillSpec) -> str:
    """A digest of what the drill does: its spec (not where in the file it sits) and the
    text of the runbook it runs. Two runs with the same digest drilled the same thing,
    so a failure followed by a pass of the same digest was a false failure."""
    data = spec.to_dict()
    data.pop("source", None)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode())
    if spec.runbook is not None:
        with contextlib.suppress(OSError):
            digest.update(Path(spec.runbook.path).read_bytes())
    return digest.hexdigest()[:16]


class HistoryStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise EnvironmentProblem(f"cannot open the history store {self.path}: {exc}") from exc
        try:
            conn.executescript(_SCHEMA)
            have = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
            if "spec_hash" not in have:  # a history written before the column existed
                conn.execute("ALTER TABLE runs ADD COLUMN spec_hash TEXT NOT NULL DEFAULT ''")
            with conn:
                yield conn
        except sqlite3.DatabaseError as exc:
            raise EnvironmentProblem(f"history store {self.path}: {exc}") from exc
        finally:
            conn.close()

    def append(self, result: DrillResult) -> HistoryRow:
        return self.add(HistoryRow.of(result))

    def add(self, row: HistoryRow) -> HistoryRow:
        """Store one row as it is (imports, and histories built for tests)."""
        marks = ", ".join("?" for _ in _COLUMNS)
        with self._db() as db:
            db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(_COLUMNS)}) VALUES ({marks})",
                       dataclasses.astuple(row))
        return row

    def rows(self, drill: str | None = None, last: int | None = None) -> list[HistoryRow]:
        """Rows oldest first; with ``last``, only the newest ``last`` per drill."""
        with self._db() as db:
            cur = db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE (? IS NULL OR drill = ?) "
                "ORDER BY drill, started_at, run_id", (drill, drill))
            rows = [HistoryRow(*r) for r in cur.fetchall()]
        if last is not None:
            by: dict[str, list[HistoryRow]] = {}
            for r in rows:
                by.setdefault(r.drill, []).append(r)
            rows = [r for rs in by.values() for r in rs[-last:]]
        return sorted(rows, key=lambda r: (r.started_at, r.run_id, r.drill))

    def prune(self, keep: int) -> int:
        """Keep the newest ``keep`` runs of each drill; returns how many rows went.

        Per drill, so a drill that runs monthly keeps as long a trend as a weekly one.
        """
        if keep < 1:
            raise ValueError("keep at least one run of each drill")
        with self._db() as db:
            cur = db.execute(
                "DELETE FROM runs WHERE rowid IN (SELECT rowid FROM (SELECT rowid, ROW_NUMBER() "
                "OVER (PARTITION BY drill ORDER BY started_at DESC, run_id DESC) AS n FROM runs) "
                "WHERE n > ?)", (keep,))
            return cur.rowcount

    def drills(self) -> list[str]:
        with self._db() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT drill FROM runs ORDER BY drill")]


class HistoryRecorder(BaseObserver):
    """Drill observer: append every finished drill to the store.

    Only ``finished`` matters: the history keeps measures and verdicts, never
    command output, so nothing here needs redacting.
    """

    def __init__(self, store: HistoryStore) -> None:
        self.store = store

    def finished(self, result: DrillResult) -> None:
        self.store.append(result)
