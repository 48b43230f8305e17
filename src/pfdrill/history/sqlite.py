"""One way to use a pfdrill SQLite file: a connection per use, one transaction, always closed.

The history, the action register and pfctl's incident store are small files several
processes touch (a drill, pfctl in a runbook, a game day); a short connection with a
busy timeout lets them take turns, and closing it never leaves the file locked.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def session(path: Path, timeout_s: float = 10.0) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` (rows by name) inside one transaction, closed after."""
    conn = sqlite3.connect(path, timeout=timeout_s)
    conn.row_factory = sqlite3.Row
    try:
        with conn:
            yield conn
    finally:
        conn.close()
