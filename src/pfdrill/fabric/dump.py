"""State dumps: what a running service writes on SIGUSR1 (``pkill -USR1 sidecar-watcher``)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any


def write(directory: Path, service: str, state: dict[str, Any]) -> Path:
    """Write ``state`` as JSON to a new file in ``directory`` (atomically) and return its path."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"{service}-dump-{stamp}-{os.getpid()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
