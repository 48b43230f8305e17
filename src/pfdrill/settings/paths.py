"""Filesystem locations: the toolchain cache and per-cluster state."""

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
