"""Filesystem locations: the toolchain cache, per-cluster state, the schedule file."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Paths:
    """Directories pfdrill reads and writes.

    ``cache``: built binaries, keyed by version, shared by every checkout and CI run
    (``$PFDRILL_CACHE_DIR``, default ``~/.cache/pfdrill``).
    ``state``: clusters, runtime logs, snapshots, the sink journal
    (``$PFDRILL_STATE_DIR``, default ``~/.local/state/pfdrill``).
    """

    cache: Path
    state: Path

    @classmethod
    def from_env(cls) -> Paths:
        home = Path.home()
        cache = Path(os.environ.get("PFDRILL_CACHE_DIR", home / ".cache" / "pfdrill"))
        state = Path(os.environ.get("PFDRILL_STATE_DIR", home / ".local" / "state" / "pfdrill"))
        return cls(cache=cache, state=state)

    @property
    def toolchain(self) -> Path:
        return self.cache / "toolchain"

    def cluster_dir(self, name: str) -> Path:
        return self.state / "clusters" / name


SCHEDULE_ENV = "PFDRILL_SCHEDULE"
SCHEDULE_FILE = Path("drills") / "schedule.yaml"


def schedule_file(explicit: str | Path | None = None, cwd: Path | None = None) -> Path | None:
    """The drill schedule: ``explicit``, ``$PFDRILL_SCHEDULE``, else ``drills/schedule.yaml`` in
    ``cwd`` or its nearest parent that has one (None when there is none).

    One rule for every command that edits or runs the schedule without being told
    where it is: pfctl inside a runbook, the CronJob, the CI workflow.
    """
    chosen = explicit or os.environ.get(SCHEDULE_ENV)
    if chosen:
        return Path(chosen).expanduser()
    here = (cwd or Path.cwd()).resolve()
    for base in (here, *here.parents):
        if (base / SCHEDULE_FILE).is_file():
            return base / SCHEDULE_FILE
    return None
