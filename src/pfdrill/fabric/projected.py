"""Reading projected ConfigMap/Secret directories, and noticing when they change.

Kubernetes (and pfdrill's process runtime) project a volume as one file per
key, each a symlink into ``..data``, which itself points at a timestamped
directory; an update writes a new directory and swaps ``..data`` atomically.
Reading every key through the *resolved* ``..data`` target therefore gives one
consistent snapshot, never half an update. Plain directories (one file per
key, no ``..data``) work too, which is what tests and local runs use.

Polling beats inotify here: the swap replaces a symlink in a directory that
may itself be re-created, and the files are tiny; a 0.5 s poll costs nothing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

Files = dict[str, bytes]
MAX_FILE = 1024 * 1024


def read_dir(directory: Path) -> Files | None:
    """``{key: content}`` of a projected volume; None when the directory does not exist."""
    data = directory / "..data"
    root = Path(os.path.realpath(data)) if data.is_symlink() or data.is_dir() else directory
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    out: Files = {}
    for name in names:
        if name.startswith("."):
            continue
        path = root / name
        try:
            if path.is_file() and path.stat().st_size <= MAX_FILE:
                out[name] = path.read_bytes()
        except OSError:
            continue  # vanished between listdir and read: the next poll sees the new state
    return out


def texts(files: Files) -> dict[str, str]:
    """Decode values as UTF-8 text, trimming the trailing newline editors and YAML add."""
    return {k: v.decode("utf-8", "replace").rstrip("\n") for k, v in files.items()}


class Watch:
    """One directory and the callback that applies its content when it changes."""

    def __init__(self, directory: Path | None, apply: Callable[[Files | None], None]) -> None:
        self.directory = directory
        self.apply = apply
        self._last: Files | bool | None = False  # False: never read

    def poll(self) -> bool:
        """Apply the directory's content if it changed since the last poll; True if applied."""
        current = read_dir(self.directory) if self.directory is not None else None
        if self._last is not False and current == self._last:
            return False
        self._last = current
        self.apply(current)
        return True


async def poll_forever(watches: list[Watch], interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        for w in watches:
            w.poll()
