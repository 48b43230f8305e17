from __future__ import annotations

import os
from pathlib import Path

from pfdrill.runtime import volumes


def test_projection_uses_an_atomic_data_link_and_updates_in_place(tmp_path: Path) -> None:
    vol = tmp_path / "vol"
    volumes.project(vol, {"enforcement_mode": b"enforce", "log_level": b"info"})
    assert (vol / "enforcement_mode").read_text() == "enforce"
    assert os.readlink(vol / "enforcement_mode") == "..data/enforcement_mode"
    first = os.readlink(vol / "..data")
    volumes.project(vol, {"enforcement_mode": b"shadow"})
    assert (vol / "enforcement_mode").read_text() == "shadow"
    assert not (vol / "log_level").exists()  # removed keys disappear
    assert os.readlink(vol / "..data") != first
    assert not (vol / first).exists()  # the old generation is cleaned up


def test_items_select_and_rename_keys(tmp_path: Path) -> None:
    vol = tmp_path / "vol"
    volumes.project(vol, {"dfa.json": b"{}", "other": b"x"}, items=[{"key": "dfa.json", "path": "artifact/dfa.json"}])
    assert (vol / "artifact" / "dfa.json").read_text() == "{}"
    assert not (vol / "other").exists()


def test_content_hash_is_order_independent() -> None:
    assert volumes.content_hash({"a": b"1", "b": b"2"}) == volumes.content_hash({"b": b"2", "a": b"1"})
    assert volumes.content_hash({"a": b"1"}) != volumes.content_hash({"a": b"2"})
