"""A relist of pods reports what vanished in the gap before it (the runtime's pod watch)."""

from __future__ import annotations

import threading
from typing import Any

from pfdrill.cluster.client import relist_events, track_pod_event
from pfdrill.cluster.fake import FakeCluster


def pod(uid: str, name: str, phase: str = "Running") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "production", "uid": uid},
            "status": {"phase": phase}}


def test_a_pod_known_before_and_missing_from_the_list_is_deleted() -> None:
    a, b, c = pod("u-a", "adapter"), pod("u-b", "watcher"), pod("u-c", "watcher-2")
    b2 = pod("u-b", "watcher", "Pending")
    events = relist_events({"u-a": a, "u-b": b}, [b2, c])
    assert events == [("ADDED", b2), ("ADDED", c), ("DELETED", a)]
    assert relist_events({}, [c]) == [("ADDED", c)]
    assert relist_events({"u-a": a}, []) == [("DELETED", a)]


def test_known_follows_every_event_so_a_later_list_can_compare() -> None:
    known: dict[str, Any] = {}
    a, b = pod("u-a", "adapter"), pod("u-b", "watcher")
    for etype, raw in [("ADDED", a), ("ADDED", b), ("MODIFIED", a), ("DELETED", b)]:
        [(seen_type, info, seen_raw)] = list(track_pod_event(known, etype, raw))
        assert (seen_type, info.uid, seen_raw) == (etype, raw["metadata"]["uid"], raw)
    assert known == {"u-a": a}


def test_the_fake_watch_lists_like_the_real_one_deletions_included() -> None:
    fake = FakeCluster()
    fake.add_namespace("production")
    fake.add_deployment("production", "policy-adapter", replicas=1)
    known: dict[str, Any] = {}
    first = list(fake.watch_pods(threading.Event(), known=known))
    assert first and {e[0] for e in first} == {"ADDED"}
    gone = pod("u-gone", "policy-adapter-old")
    known["u-gone"] = gone  # told of before a gap in the watch; deleted during it
    again = list(fake.watch_pods(threading.Event(), known=known))
    assert again[-1][0] == "DELETED" and again[-1][2] is gone
    assert "u-gone" not in known and len(known) == len(first)
