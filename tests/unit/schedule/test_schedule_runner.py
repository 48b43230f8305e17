"""``pfdrill schedule run``: suites run through the suite runner, the history is kept to size,
and the summary posted to a real sink over HTTP names every regression first."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pfdrill.drill import fake
from pfdrill.errors import InvalidInput
from pfdrill.history.store import HistoryRow, HistoryStore
from pfdrill.model.detection import Channel
from pfdrill.schedule import runner, spec
from pfdrill.sink.client import SinkClient
from pfdrill.sink.server import SinkFiles, SinkServer

WEEKS = ("2025-12-15", "2025-12-22", "2025-12-29")  # the fake clock starts 2026-01-05


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SinkServer]:
    with SinkServer(SinkFiles(tmp_path / "sink")) as server:
        yield server


def _run(schedule_file: Path, tmp_path: Path, world: fake.FakeWorld, history: Path,
         environ: dict[str, str], post: bool = True, only: tuple[str, ...] = ()
         ) -> runner.RunReport:
    s = spec.load(schedule_file)
    return runner.run(s, [s.entry("weekly")], fake.FakeEnvironmentFactory(world, tmp_path / "st"),
                      reports=tmp_path / "reports", history=history, only=only, post=post,
                      environ=environ)


def _past(row: HistoryRow, week: str, **changes: object) -> HistoryRow:
    return dataclasses.replace(row, run_id=f"{week.replace('-', '')}T060000Z-0000",
                               started_at=f"{week}T06:00:00+00:00", **changes)  # type: ignore[arg-type]


def test_a_broken_drill_and_a_doubled_mttd_are_named_first_in_the_posted_summary(
        schedule_file: Path, tmp_path: Path, sink: SinkServer) -> None:
    # What the drills measure on the fake fabric (deterministic: the same next time).
    probe = tmp_path / "probe.sqlite"
    _run(schedule_file, tmp_path, fake.FakeWorld(detect_delay_s=20.0), probe, {}, post=False)
    now = {r.drill: r for r in HistoryStore(probe).rows()}
    cert = now["certificate-corruption"]
    assert cert.mttd is not None and cert.mttd >= 12  # doubling it clears the 5 s margin
    # Three weeks of history: every drill passed; certificate corruption detected in half the time.
    history = tmp_path / "history.sqlite"
    db = HistoryStore(history)
    for week in WEEKS:
        for row in now.values():
            mttd = cert.mttd / 2 if row.drill == cert.drill else row.mttd
            db.add(_past(row, week, mttd=mttd))
    # This week the adapter's alert rule is gone: the drill that passed three weeks fails.
    world = fake.FakeWorld(detect_delay_s=20.0)
    world.silenced.add("PolicyAdapterFailingOpen")
    url = f"{sink.url}/team"
    report = _run(schedule_file, tmp_path, world, history, {"PFDRILL_SUMMARY_WEBHOOK": url})
    assert report.posted == 200 and not report.passed
    found = [(r.drill, r.what) for r in report.regressions]
    # (the failing drill also recovered later than usual: a third, lesser regression)
    assert found[:2] == [("adapter-fail-open", "verdict"), ("certificate-corruption", "mttd")]

    (posted,) = SinkClient(sink.url).records(channel=Channel.TEAM)
    text = json.loads(posted.body)["text"]
    head, _, rest = text.partition("## pfdrill weekly")
    assert head.startswith(f"# ⚠️ pfdrill weekly: {len(found)} regressions — "
                           f"adapter-fail-open, certificate-corruption")
    first = [ln for ln in head.splitlines() if ln.startswith("- **")]
    assert first[0].startswith("- **adapter-fail-open** (now failing): failed (detect")
    assert "after 3 passing runs" in first[0]
    assert first[1].startswith(f"- **certificate-corruption** (slower detection): MTTD "
                               f"{cert.mttd:.1f} s is above the median {cert.mttd / 2:.1f} s")
    assert "| adapter-fail-open | ❌ failed | detect |" in rest  # then the full table
    assert url not in text and "[REDACTED" not in head


def test_no_regression_says_so_and_history_is_pruned_per_drill(
        schedule_file: Path, tmp_path: Path, sink: SinkServer) -> None:
    history = tmp_path / "history.sqlite"
    schedule_file.write_text(schedule_file.read_text().replace("keep: 52", "keep: 2"))
    for _ in range(3):
        report = _run(schedule_file, tmp_path, fake.FakeWorld(), history,
                      {"PFDRILL_SUMMARY_WEBHOOK": f"{sink.url}/team"},
                      only=("enforcement-disabled-drift",))
    assert report.passed and report.regressions == () and report.pruned == 1
    rows = HistoryStore(history).rows()
    assert [r.drill for r in rows] == ["enforcement-disabled-drift"] * 2
    posts = SinkClient(sink.url).records(channel=Channel.TEAM)
    assert len(posts) == 3
    assert json.loads(posts[-1].body)["text"].startswith("# pfdrill weekly: no regressions")


def test_a_run_without_its_webhook_is_refused_before_any_drill(schedule_file: Path,
                                                               tmp_path: Path) -> None:
    world = fake.FakeWorld()
    with pytest.raises(InvalidInput, match=r"\$PFDRILL_SUMMARY_WEBHOOK is empty"):
        _run(schedule_file, tmp_path, world, tmp_path / "h.sqlite", {})
    with pytest.raises(InvalidInput, match="does not run nope"):
        _run(schedule_file, tmp_path, world, tmp_path / "h.sqlite", {}, post=False,
             only=("nope",))
    assert world.cluster.mutations == []
    assert not (tmp_path / "h.sqlite").exists()


def test_an_unreachable_webhook_is_named_without_its_url(schedule_file: Path,
                                                         tmp_path: Path) -> None:
    from pfdrill.errors import ServiceUnavailable

    secret = "http://127.0.0.1:9/hooks/T000/secret-token"
    with pytest.raises(ServiceUnavailable) as got:
        _run(schedule_file, tmp_path, fake.FakeWorld(), tmp_path / "h.sqlite",
             {"PFDRILL_SUMMARY_WEBHOOK": secret}, only=("enforcement-disabled-drift",))
    assert "$PFDRILL_SUMMARY_WEBHOOK" in str(got.value) and "secret-token" not in str(got.value)
