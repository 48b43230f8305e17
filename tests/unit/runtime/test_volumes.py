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


def test_a_missing_volume_source_is_a_problem_said_once_however_often_it_is_synced(
        tmp_path: Path) -> None:
    """The runtime syncs volumes every half second: a problem must not grow the state file."""
    import sys

    from pfdrill.cluster.fake import FakeCluster
    from pfdrill.runtime.pod import PodRunner

    pod = {"metadata": {"name": "web-1", "namespace": "ns", "uid": "u-1"},
           "spec": {"volumes": [{"name": "cfg", "configMap": {"name": "gone"}}],
                    "containers": []}}
    runner = PodRunner(pod, tmp_path, FakeCluster(), Path(sys.executable).parent, {})
    for _ in range(3):
        runner.sync_volumes({}, {})
    assert runner.problems == ["volume cfg: source not found"]
