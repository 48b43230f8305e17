"""Where a game day lives on disk, so that it survives a restart of its process.

``<state>/gamedays/<id>/``::

    state.json          the game day's record (GameDayState), rewritten on every change
    checkpoint.json     the running inject's drill (Checkpoint), rewritten on every event
    results/<drill>.json  each finished inject's DrillResult
    observations.jsonl  what was seen around the injects (alerts, cluster, responders)
    tokens.json         the facilitator's and observers' tokens (0600)
    pfctl.yaml          pfctl's config for this game day (its incident store, its cluster)
    pfctl-state/        that incident store (incidents, action items)

``<state>/gamedays/current.json`` names the game day a process runs now and
where its control API listens (:mod:`pfdrill.gameday.control`). Every file is
written to a temporary name and renamed: a crash leaves the old or the new.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.model.checkpoint import Checkpoint
from pfdrill.model.gameday import GameDayState, Role
from pfdrill.model.live import Observation
from pfdrill.model.result import DrillResult
from pfdrill.settings.paths import Paths

CURRENT = "current.json"
PFCTL_DB = "pfctl.db"  # pfctl's store file name (pfdrill.pfctl.store.DB_FILE, a layer above)


def root(paths: Paths | None = None) -> Path:
    return (paths or Paths.from_env()).state / "gamedays"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically, readable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where a running game day's control API listens (``current.json``)."""

    id: str
    pid: int
    url: str
    file: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class GameDayDir:
    def __init__(self, directory: Path) -> None:
        self.path = directory

    @classmethod
    def of(cls, game_id: str, paths: Paths | None = None) -> GameDayDir:
        return cls(root(paths) / game_id)

    # files ------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.path / "state.json"

    @property
    def checkpoint_file(self) -> Path:
        return self.path / "checkpoint.json"

    @property
    def observations_file(self) -> Path:
        return self.path / "observations.jsonl"

    @property
    def pfctl_config(self) -> Path:
        return self.path / "pfctl.yaml"

    @property
    def pfctl_state(self) -> Path:
        return self.path / "pfctl-state"

    @property
    def incident_db(self) -> Path:
        return self.pfctl_state / PFCTL_DB

    def result_file(self, drill: str) -> Path:
        return self.path / "results" / f"{drill}.json"

    # state ------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.state_file.is_file()

    def load(self) -> GameDayState:
        try:
            return GameDayState.from_dict(json.loads(self.state_file.read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"not a readable game day state: {exc}",
                               file=self.state_file) from None

    def save(self, state: GameDayState) -> None:
        write_private(self.state_file, json.dumps(state.to_dict(), indent=1, sort_keys=True))

    def save_checkpoint(self, cp: Checkpoint) -> None:
        write_private(self.checkpoint_file, json.dumps(cp.to_dict(), sort_keys=True))

    def checkpoint(self) -> Checkpoint | None:
        if not self.checkpoint_file.is_file():
            return None
        return Checkpoint.from_dict(json.loads(self.checkpoint_file.read_text("utf-8")))

    def clear_checkpoint(self) -> None:
        self.checkpoint_file.unlink(missing_ok=True)

    def save_result(self, result: DrillResult) -> None:
        write_private(self.result_file(result.name), json.dumps(result.to_dict(), sort_keys=True))

    def results(self) -> dict[str, DrillResult]:
        out: dict[str, DrillResult] = {}
        for p in sorted((self.path / "results").glob("*.json")):
            r = DrillResult.from_dict(json.loads(p.read_text("utf-8")))
            out[r.name] = r
        return out

    def observe(self, observations: Iterable[Observation]) -> None:
        lines = "".join(json.dumps(o.to_dict(), ensure_ascii=False) + "\n"
                        for o in observations)
        if not lines:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.observations_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, lines.encode("utf-8"))
        finally:
            os.close(fd)

    def observations(self) -> tuple[Observation, ...]:
        if not self.observations_file.is_file():
            return ()
        out = []
        for line in self.observations_file.read_text("utf-8").splitlines():
            try:
                out.append(Observation.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue
        return tuple(out)

    # tokens -----------------------------------------------------------------------------
    def tokens(self) -> dict[Role, str]:
        """The facilitator's and observers' tokens, made on first use."""
        path = self.path / "tokens.json"
        if path.is_file():
            raw = json.loads(path.read_text("utf-8"))
            return {Role(k): str(v) for k, v in raw.items()}
        made = {Role.FACILITATOR: secrets.token_urlsafe(24),
                Role.OBSERVER: secrets.token_urlsafe(24)}
        write_private(path, json.dumps({k.value: v for k, v in made.items()}))
        return made


class StateStore:
    """The game day's record: changed only through :meth:`update`, saved and announced each time.

    Both the conductor (main thread) and the control API (server thread) change
    it; the lock makes every change a whole one.
    """

    def __init__(self, directory: GameDayDir, state: GameDayState,
                 announce: Callable[[GameDayState, str], None] = lambda _s, _m: None) -> None:
        self.dir = directory
        self._state = state
        self._announce = announce
        self._lock = threading.RLock()
        directory.save(state)

    @property
    def state(self) -> GameDayState:
        with self._lock:
            return self._state

    def update(self, change: Callable[[GameDayState], GameDayState],
               message: str = "") -> GameDayState:
        with self._lock:
            new = change(self._state)
            self._state = new
            self.dir.save(new)
            self._announce(new, message)
            return new


# --- the running game day's endpoint -------------------------------------------------------
def publish_endpoint(endpoint: Endpoint, paths: Paths | None = None) -> None:
    write_private(root(paths) / CURRENT, json.dumps(endpoint.to_dict()))


def endpoint(paths: Paths | None = None) -> Endpoint | None:
    path = root(paths) / CURRENT
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text("utf-8"))
        return Endpoint(id=str(raw["id"]), pid=int(raw["pid"]), url=str(raw["url"]),
                        file=str(raw.get("file", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def withdraw_endpoint(game_id: str, paths: Paths | None = None) -> None:
    current = endpoint(paths)
    if current is not None and current.id == game_id and current.pid == os.getpid():
        (root(paths) / CURRENT).unlink(missing_ok=True)


def unfinished(paths: Paths | None = None) -> list[GameDayDir]:
    """Game days whose record says they have not ended, newest first."""
    base = root(paths)
    dirs = [GameDayDir(p) for p in base.iterdir() if p.is_dir()] if base.is_dir() else []
    out = []
    for d in dirs:
        try:
            state = d.load()
        except InvalidInput:
            continue
        if state.ended_wall is None:
            out.append((state.started_wall, d))
    return [d for _, d in sorted(out, key=lambda x: x[0], reverse=True)]
