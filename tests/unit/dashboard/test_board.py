"""What a dashboard shows of the journals: everything, but the world it watches itself only once."""

from __future__ import annotations

from pathlib import Path

from pfdrill.dashboard.board import Dashboard
from pfdrill.drill.live import LiveJournal
from pfdrill.model.live import LiveEvent, LiveKind, Observation, Source


class Alerts:
    source = Source.PROMETHEUS

    def poll(self, wall: float) -> list[Observation]:
        return []


def observed(source: Source, message: str) -> LiveEvent:
    return LiveEvent(wall=1.0, run_id="gd", kind=LiveKind.OBSERVED,
                     observed=Observation(1.0, source, "x", "s", message))


def test_journaled_observations_of_its_own_sources_are_not_shown_twice(tmp_path: Path) -> None:
    journal = LiveJournal(tmp_path, run_id="gd")
    journal.publish(observed(Source.PROMETHEUS, "seen by the game day"))
    journal.publish(observed(Source.RESPONDER, "kubectl scale → exit 0"))
    journal.publish(LiveEvent(wall=2.0, run_id="gd", kind=LiveKind.GAMEDAY, message="open"))
    board = Dashboard(journals=tmp_path, pollers=[Alerts()])
    board.follow_once()
    shown = [e.observed.message if e.observed else e.message for _, e in board.feed.since(0)]
    assert shown == ["kubectl scale → exit 0", "open"]
    game_days_own = Dashboard(journals=tmp_path, run_id="gd")  # watches nothing itself
    game_days_own.follow_once()
    assert len(game_days_own.feed.since(0)) == 3
