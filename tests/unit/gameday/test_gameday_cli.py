"""``pfdrill gameday`` without a game day, and with bad input: one line, the right exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.cli import main
from pfdrill.gameday import machine, plan, store
from pfdrill.history.actions import ActionRegister

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PFDRILL_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    got = capsys.readouterr()
    return code, got.out.strip(), got.err.strip()


def test_validate(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "gameday", "validate", str(REPO / "drills" / "gameday.yaml"))
    assert code == 0 and "3 inject(s)" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "drills" / "gameday.yaml").read_text().replace(
        "- drill: adapter-fail-open", "- drill: adapter-fails"))
    code, _, err = run(capsys, "gameday", "validate", str(bad))
    assert code == 2 and "no drill 'adapter-fails'" in err and "\n" not in err
    assert err.startswith(f"pfdrill: error: {bad}:")


def test_controls_need_a_running_game_day(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "gameday", "inject", "adapter-fail-open")
    assert code == 3 and "no game day is running" in err and "\n" not in err
    code, _, err = run(capsys, "gameday", "report")
    assert code == 2 and "no game day under" in err


def test_actions_and_the_report_of_a_past_game_day(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path, state_dir: Path) -> None:
    gp = plan.load(REPO / "drills" / "gameday.yaml")
    gdir = store.GameDayDir(state_dir / "gamedays" / "gd-1")
    gdir.save(machine.end(machine.new("gd-1", gp, 1000.0), 2000.0))
    code, out, _ = run(capsys, "gameday", "action", "add", "--title", "Fix the pager",
                       "--owner", "Ann", "--due", "2030-01-31")
    assert code == 0 and out.startswith("AI-1 for Ann")
    code, _, err = run(capsys, "gameday", "action", "add", "--title", "x", "--owner", "Ann",
                       "--due", "soon")
    assert code == 2 and "is not a date" in err
    ActionRegister(gdir.incident_db).close("AI-1", by="Bo")
    code, out, _ = run(capsys, "gameday", "action", "list", "--id", "gd-1")
    assert code == 0 and "AI-1  closed" in out
    code, out, _ = run(capsys, "gameday", "report", "--reports", str(tmp_path / "reports"))
    assert code == 0 and out.endswith("gd-1/aar.html")
    assert "Fix the pager" in (tmp_path / "reports" / "gd-1" / "aar.md").read_text()
    code, _, err = run(capsys, "gameday", "env", "--id", "gd-1")
    assert code == 2 and "no responders' workspace" in err
