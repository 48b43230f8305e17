"""The on-disk record of an injected fault: what it changed, so any later process can undo it.

One file per (context, namespace, key) under ``<state>/faults/``, written
atomically (temp file, fsync, rename) with mode 0600 because a Secret's old
bytes may be in it. Changes are written *before* they are made, so an
injection killed half-way still leaves a file that rolls back everything it
may have touched: restoring a before-value that was never overwritten is a
no-op.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import os
import re
from pathlib import Path

from pfdrill.errors import InvalidInput
from pfdrill.faults.change import Change
from pfdrill.model.codec import Record
from pfdrill.model.drill import ParamValue


class Phase(enum.Enum):
    INJECTING = "injecting"  # changes may be half-made
    INJECTED = "injected"
    ROLLED_BACK = "rolled_back"


@dataclasses.dataclass(frozen=True)
class FaultState(Record):
    key: str
    fault: str
    params: dict[str, ParamValue]
    context: str
    namespace: str
    phase: Phase
    injected_wall: str
    changes: tuple[Change, ...] = ()
    measured: dict[str, float] = dataclasses.field(default_factory=dict)  # baselines at inject
    rolled_back_wall: str | None = None
    rollback_actions: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.phase is not Phase.ROLLED_BACK

    def with_change(self, change: Change) -> FaultState:
        return dataclasses.replace(self, changes=(*self.changes, change))

    def replace_last(self, change: Change) -> FaultState:
        return dataclasses.replace(self, changes=(*self.changes[:-1], change))


def now_wall() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(text: str) -> str:
    return _SAFE.sub("_", text) or "_"


def check_key(key: str) -> str:
    if not key or len(key) > 120 or _SAFE.search(key):
        raise InvalidInput(f"fault key {key!r} must be 1-120 characters of letters, digits, '.', '_' or '-'")
    return key


class StateStore:
    """Fault state files under ``directory`` (normally ``<state dir>/faults``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _dir(self, context: str, namespace: str) -> Path:
        return self.directory / safe_name(context) / safe_name(namespace)

    def path(self, context: str, namespace: str, key: str) -> Path:
        return self._dir(context, namespace) / f"{check_key(key)}.json"

    def save(self, state: FaultState) -> Path:
        path = self.path(state.context, state.namespace, state.key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state.to_dict(), fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path

    def load(self, context: str, namespace: str, key: str) -> FaultState | None:
        path = self.path(context, namespace, key)
        if not path.is_file():
            return None
        return self._read(path)

    def _read(self, path: Path) -> FaultState:
        try:
            return FaultState.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"unreadable fault state: {exc}", file=path) from None

    def all(self, context: str, namespace: str) -> list[FaultState]:
        directory = self._dir(context, namespace)
        if not directory.is_dir():
            return []
        return [self._read(p) for p in sorted(directory.glob("*.json"))]

    def active(self, context: str, namespace: str) -> list[FaultState]:
        return [s for s in self.all(context, namespace) if s.active]
