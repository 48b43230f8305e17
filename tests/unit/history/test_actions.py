"""Action items: recorded by a game day, closed by pfctl in the same incident store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.history.actions import ActionRegister
from pfdrill.pfctl import cli


def test_add_list_close(tmp_path: Path) -> None:
    reg = ActionRegister(tmp_path / "pfctl.db")
    one = reg.add("Alert on adapter fail-open", "Ann", "2030-01-31", source="gameday:gd-1",
                  inject="adapter-fail-open")
    reg.add("Unrelated", "Bo", "2030-02-01", source="INC-9")
    assert one.id == "AI-1" and one.status == "open" and one.due == "2030-01-31"
    assert [i.id for i in reg.items("gameday:gd-1")] == ["AI-1"]
    closed = reg.close("ai-1", by="Ann", resolution="rule added")
    assert (closed.status, closed.closed_by, closed.resolution) == ("closed", "Ann", "rule added")
    assert closed.closed_wall
    with pytest.raises(InvalidInput, match="already closed"):
        reg.close("AI-1", by="Ann")


@pytest.mark.parametrize(("args", "words"), [
    (("", "Ann", "2030-01-01"), "needs a title"),
    (("x", " ", "2030-01-01"), "needs an owner"),
    (("x", "Ann", "next week"), "is not a date"),
])
def test_bad_items(tmp_path: Path, args: tuple[str, str, str], words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        ActionRegister(tmp_path / "pfctl.db").add(*args)
    with pytest.raises(InvalidInput, match="not an action item id"):
        ActionRegister(tmp_path / "pfctl.db").close("seven", by="x")


def test_pfctl_closes_what_a_game_day_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    config = tmp_path / "pfctl.yaml"
    config.write_text(f"default_env: production\nstate_dir: {state}\n"
                      "environments:\n  production:\n    namespace: production\n")
    monkeypatch.setenv("PFCTL_CONFIG", str(config))
    monkeypatch.delenv("PFDRILL_AUDIT", raising=False)
    ActionRegister(state / "pfctl.db").add("Page the adapter owner", "Ann", "2030-01-31",
                                           source="gameday:gd-1")
    assert cli.main(["action", "close", "AI-1", "--resolution", "runbook updated",
                     "--by", "Bo"]) == 0
    assert "AI-1 closed by Bo" in capsys.readouterr().out
    assert cli.main(["action", "list", "--format", "json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert (item["status"], item["resolution"]) == ("closed", "runbook updated")
    assert cli.main(["action", "close", "AI-1"]) == 2
    assert "already closed" in capsys.readouterr().err
    assert cli.main(["action", "add", "--title", "Drill monthly", "--owner", "Cy", "--due",
                     "2030-03-01"]) == 0
    assert capsys.readouterr().out.strip() == "AI-2"
