"""Projecting ConfigMap, Secret and emptyDir volumes to files, the way the kubelet does.

Each volume is a directory holding a timestamped data dir, a ``..data``
symlink to it and one symlink per key (``key -> ..data/key``). An update writes
a new data dir and swaps ``..data`` atomically with ``rename``, so a reader
never sees a half-written set of keys — which is what programs that watch
ConfigMap volumes (the fabric does) rely on.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path


def content_hash(data: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for k in sorted(data):
        h.update(k.encode() + b"\0" + data[k] + b"\0")
    return h.hexdigest()


def project(volume_dir: Path, data: Mapping[str, bytes], items: list[dict[str, str]] | None = None,
            mode: int = 0o644) -> None:
    """Write ``data`` (key → bytes) into ``volume_dir`` with an atomic ``..data`` swap.

    ``items`` (from the volume spec) selects keys and renames them to paths.
    """
    if items:
        selected = {it["path"]: data[it["key"]] for it in items if it.get("key") in data}
    else:
        selected = dict(data)
    volume_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{time.monotonic_ns()}"
    new_dir = volume_dir / stamp
    new_dir.mkdir()
    for rel, value in selected.items():
        target = new_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(value)
        target.chmod(mode)
    tmp_link = volume_dir / "..data_tmp"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    tmp_link.symlink_to(stamp)
    old = os.readlink(volume_dir / "..data") if (volume_dir / "..data").is_symlink() else None
    os.replace(tmp_link, volume_dir / "..data")
    # Top-level key links point through ..data, so they follow the swap by themselves.
    tops = {Path(rel).parts[0] for rel in selected}
    for entry in volume_dir.iterdir():
        if entry.name.startswith(".."):
            continue
        if entry.name not in tops and entry.is_symlink():
            entry.unlink()
    for top in tops:
        link = volume_dir / top
        if not link.is_symlink():
            if link.exists():
                shutil.rmtree(link) if link.is_dir() else link.unlink()
            link.symlink_to(Path("..data") / top)
    if old and old != stamp:
        shutil.rmtree(volume_dir / old, ignore_errors=True)


def empty_dir(volume_dir: Path) -> None:
    volume_dir.mkdir(parents=True, exist_ok=True)
