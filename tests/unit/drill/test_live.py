"""The live journal: every lifecycle call as a JSON line, redacted; the tail hands out whole lines."""

from __future__ import annotations

from pathlib import Path

from pfdrill.drill import fake
from pfdrill.drill.engine import Drill
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.live import JournalTail, LiveJournal
from pfdrill.model.drill import DrillSpec
from pfdrill.model.live import LiveEvent, LiveKind
from pfdrill.model.timeline import EventKind


def test_a_drill_run_is_journaled_live_and_redacted(fail_open: DrillSpec, env: DrillEnvironment,
                                                     tmp_path: Path) -> None:
    tail = JournalTail(tmp_path / "live")
    assert tail.read() == []
    journal = LiveJournal(tmp_path / "live")
    Drill(fail_open, env, run_id="run-1", observers=[journal]).run()
    events = tail.read()
    kinds = [e.kind for e in events]
    assert kinds[0] is LiveKind.DRILL_STARTED and kinds[-1] is LiveKind.DRILL_FINISHED
    assert events[0].spec == fail_open and events[-1].verdict == "passed"
    timeline = [e.event.kind for e in events if e.event is not None]
    injected = timeline.index(EventKind.INJECTED)
    alert = timeline.index(EventKind.ALERT_FIRING)
    classified = timeline.index(EventKind.CLASSIFIED)
    assert injected < alert < classified  # published in the order they were recorded
    text = (tmp_path / "live" / "run-1.jsonl").read_text()
    assert fake.FAKE_WEBHOOK not in text  # the environment's secrets never reach the journal
    assert tail.read() == []  # nothing new


def test_the_tail_waits_for_whole_lines(tmp_path: Path) -> None:
    live = tmp_path / "live"
    old = LiveJournal(live, run_id="old")
    old.publish(LiveEvent(wall=1.0, run_id="old", kind=LiveKind.GAMEDAY, message="before"))
    tail = JournalTail(live)
    assert [e.message for e in tail.read()] == ["before"]  # the newest journal, whole
    path = live / "new.jsonl"
    line = LiveJournal(live).publish
    line(LiveEvent(wall=2.0, run_id="new", kind=LiveKind.GAMEDAY, message="one"))
    with path.open("a") as fh:
        fh.write('{"wall": 3.0, "run_id": "new", "ki')  # a writer mid-line
    assert [e.message for e in tail.read()] == ["one"]
    with path.open("a") as fh:
        fh.write('nd": "gameday", "message": "two"}\n')
    assert [e.message for e in tail.read()] == ["two"]
    only = JournalTail(live, run_id="old")
    assert [e.message for e in only.read()] == ["before"]
