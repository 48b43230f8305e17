"""The run history: appended rows, per-drill trends, regressions against the recent median."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pfdrill.drill import engine, fake, suitefile
from pfdrill.history import store, trend
from pfdrill.model.result import DrillResult

REPO = Path(__file__).resolve().parents[3]


def drill_run(tmp_path: Path, run_id: str, detect_delay: float = 8.0,
              broken: bool = False) -> DrillResult:
    suite = suitefile.load(REPO / "drills" / "weekly.yaml")
    spec = next(d for d in suite.drills if d.name == "adapter-fail-open")
    world = fake.FakeWorld(detect_delay_s=detect_delay)
    if broken:
        world.broken_sections["Immediate Mitigation"] = "boom"
    return engine.Drill(spec, fake.environment(world, tmp_path / run_id), run_id=run_id).run()


def row(run: int, mttd: float | None, verdict: str = "passed") -> store.HistoryRow:
    return store.HistoryRow(
        run_id=f"r{run:02d}", drill="d", started_at=f"2026-01-{run:02d}T06:00:00+00:00",
        verdict=verdict, failing_phase=None if verdict == "passed" else "detect", reason="",
        mttd=mttd, time_to_classify=None, time_to_mitigate=None, mttr=40.0, duration=60.0,
        profile="drill", severity="SEV-1", context="kwok-pfdrill", provider="kwok",
        pfdrill_version="0.1.0")


def test_runs_are_appended_and_read_back(tmp_path: Path) -> None:
    db = store.HistoryStore(tmp_path / "history.sqlite")
    rec = store.HistoryRecorder(db)
    results = [drill_run(tmp_path, f"2026010{i}T000000Z-aaaa") for i in range(1, 4)]
    for r in results:
        rec.finished(r)
    rows = db.rows()
    assert [r.run_id for r in rows] == [r.run_id for r in results]
    assert rows[0] == store.HistoryRow.of(results[0])
    assert rows[0].mttd == results[0].measures.mttd and rows[0].passed
    assert db.drills() == ["adapter-fail-open"]
    assert [r.run_id for r in db.rows(last=2)] == [r.run_id for r in results[1:]]
    assert db.rows(drill="other") == []


def test_a_slow_detection_is_flagged_against_the_median(tmp_path: Path) -> None:
    db = store.HistoryStore(tmp_path / "h.sqlite")
    for i, delay in enumerate([8, 9, 8, 10, 30], start=1):
        db.append(drill_run(tmp_path, f"2026010{i}T000000Z-bbbb", detect_delay=delay))
    (t,) = trend.trends(db.rows())
    assert t.runs == 5 and t.passed == 5
    by_what = {r.what: r for r in t.regressions}
    assert set(by_what) == {"mttd", "mttr"}  # a late detection delays recovery too
    reg = by_what["mttd"]
    assert reg.latest == pytest.approx(31.8)
    assert reg.median == pytest.approx(10.3) and reg.limit == pytest.approx(15.3)
    assert "REGRESSIONS:" in trend.table([t]) and "MTTD 31.8 s" in trend.table([t])


@pytest.mark.parametrize(("values", "flagged"), [
    ([10, 10, 10, 14.9], False),  # within the 5 s absolute margin
    ([10, 10, 10, 15.1], True),
    ([100, 100, 100, 124], False),  # within 25 % of a larger median
    ([100, 100, 100, 126], True),
    ([10, 10, 40], False),  # too few previous runs to judge
    ([10, 10, 10, None], False),  # no measure in the newest run
])
def test_margin_rules(values: list[float | None], flagged: bool) -> None:
    rows = [row(i, v) for i, v in enumerate(values, start=1)]
    (t,) = trend.trends(rows)
    assert any(r.what == "mttd" for r in t.regressions) is flagged


def test_a_failure_after_passing_runs_is_a_regression() -> None:
    rows = [row(1, 10), row(2, 10), row(3, 10), row(4, None, verdict="failed")]
    (t,) = trend.trends(rows)
    assert [r.what for r in t.regressions] == ["verdict"]
    assert "after 3 passing runs" in t.regressions[0].message
    rows = [dataclasses.replace(r, verdict="failed") for r in rows]
    assert trend.trends(rows)[0].regressions == ()


def test_passing_last_week_and_failing_now_is_a_regression_on_its_own() -> None:
    rows = [row(1, None, verdict="failed"), row(2, 10), row(3, None, verdict="failed")]
    (t,) = trend.trends(rows)
    assert [r.what for r in t.regressions] == ["verdict"]
    assert "after 1 passing run" in t.regressions[0].message
    assert trend.trends(rows[:1])[0].regressions == ()  # a first run that fails is not one


def test_sparkline_and_empty_table() -> None:
    assert trend.sparkline([1, 2, None, 8]) == "▁▂·█"
    assert trend.table([]) == "no drill runs recorded yet"


def test_false_failure_rate_counts_failures_a_later_unchanged_run_passed(tmp_path: Path) -> None:
    def r(n: int, verdict: str, spec: str) -> store.HistoryRow:
        return dataclasses.replace(row(n, 5.0, verdict), spec_hash=spec)

    rows = [r(1, "passed", "a"), r(2, "failed", "a"), r(3, "passed", "a"),
            r(4, "failed", "b"),  # the drill changed: its failure is no false one ...
            r(5, "failed", "a"), r(6, "passed", "a"),
            r(7, "failed", "a")]  # ... nor is a failure no later pass has cleared
    (t,) = trend.trends(rows)
    assert (t.false_failures, t.judged) == (2, 4)
    assert t.false_failure_rate == pytest.approx(0.5)
    assert "2/4 (50%)" in trend.table([t])
    db = store.HistoryStore(tmp_path / "h.sqlite")
    first = drill_run(tmp_path, "20260101T000000Z-cccc")
    db.append(first)
    (back,) = db.rows()
    assert back.spec_hash == store.spec_hash(first.spec) and len(back.spec_hash) == 16


def test_the_spec_hash_ignores_where_the_drill_sits_but_not_what_it_does() -> None:
    suite = suitefile.load(REPO / "drills" / "weekly.yaml")
    a, b = suite.drills[0], suite.drills[1]
    assert store.spec_hash(a) != store.spec_hash(b)
    moved = dataclasses.replace(a, source=b.source)
    assert store.spec_hash(moved) == store.spec_hash(a)
    slower = dataclasses.replace(a, expected_alerts=(*a.expected_alerts, "Another"))
    assert store.spec_hash(slower) != store.spec_hash(a)


def test_a_history_without_the_spec_hash_column_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (run_id TEXT NOT NULL, drill TEXT NOT NULL, "
                     "started_at TEXT NOT NULL, verdict TEXT NOT NULL, failing_phase TEXT, "
                     "reason TEXT NOT NULL DEFAULT '', mttd REAL, time_to_classify REAL, "
                     "time_to_mitigate REAL, mttr REAL, duration REAL NOT NULL, "
                     "profile TEXT NOT NULL, severity TEXT NOT NULL, context TEXT NOT NULL, "
                     "provider TEXT NOT NULL, pfdrill_version TEXT NOT NULL, "
                     "PRIMARY KEY (run_id, drill))")
    conn.close()
    db = store.HistoryStore(path)
    db.append(drill_run(tmp_path, "20260101T000000Z-dddd"))
    assert db.rows()[0].spec_hash
