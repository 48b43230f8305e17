from __future__ import annotations

import os
from pathlib import Path

from pfdrill.fabric import projected


def project(volume: Path, data: dict[str, str], generation: int) -> None:
    """Write ``data`` the way the kubelet does: a new timestamped dir, then an atomic ..data swap."""
    volume.mkdir(exist_ok=True)
    target = volume / f"..2026_11_28_12_00_00.{generation}"
    target.mkdir()
    for k, v in data.items():
        (target / k).write_text(v)
    tmp = volume / "..data_tmp"
    tmp.symlink_to(target.name)
    os.replace(tmp, volume / "..data")
    for k in data:
        link = volume / k
        if not link.is_symlink():
            link.symlink_to(f"..data/{k}")


def test_reads_plain_and_projected_dirs(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "enforcement_mode").write_text("enforce\n")
    (plain / ".hidden").write_text("x")
    assert projected.read_dir(plain) == {"enforcement_mode": b"enforce\n"}
    assert projected.read_dir(tmp_path / "absent") is None
    vol = tmp_path / "vol"
    project(vol, {"enforcement_mode": "enforce"}, 1)
    assert projected.read_dir(vol) == {"enforcement_mode": b"enforce"}


def test_watch_applies_only_on_change_including_symlink_swaps(tmp_path: Path) -> None:
    seen: list[dict[str, bytes] | None] = []
    vol = tmp_path / "vol"
    w = projected.Watch(vol, seen.append)
    assert w.poll() and seen == [None]  # absent is reported once, too
    project(vol, {"enforcement_mode": "enforce", "log_level": "INFO"}, 1)
    assert w.poll() and seen[-1] == {"enforcement_mode": b"enforce", "log_level": b"INFO"}
    assert not w.poll()
    project(vol, {"enforcement_mode": "shadow", "log_level": "INFO"}, 2)
    assert w.poll() and seen[-1] == {"enforcement_mode": b"shadow", "log_level": b"INFO"}
    assert len(seen) == 3


def test_texts_trims_the_trailing_newline() -> None:
    assert projected.texts({"a": b"enforce\n", "b": b"x\n\n"}) == {"a": "enforce", "b": "x"}
