"""``pfdrill fault``: bad input gets one line and exit 2 before any cluster is contacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pfdrill.chaos import experiment
from pfdrill.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("argv", "message"), [
    (["fault", "inject", "meteor_strike"], "unknown fault 'meteor_strike'"),
    (["fault", "inject", "certificate_corruption", "-p", "mode=expired", "-p", "fraction=1.5"],
     "parameter fraction='1.5' is out of range"),
    (["fault", "inject", "high_reject_rate", "-p", "multiplier=-3"], "multiplier='-3' is out of range"),
    (["fault", "inject", "adapter_failure", "-p", "variant"], "--param 'variant': expected NAME=VALUE"),
    (["fault", "rollback"], "name a fault, or give --key or --all"),
])
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                                      message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No cluster exists under this state dir: reaching for one would fail differently.
    monkeypatch.setenv("PFDRILL_STATE_DIR", str(tmp_path))
    code, _out, err = _run(capsys, *argv)
    assert code == 2, err
    assert err.count("\n") == 1 and message in err


def test_list_names_every_fault_and_parameter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "fault", "list", "--json")
    data = json.loads(out)
    assert code == 0 and len(data) == 10
    adapter = next(d for d in data if d["name"] == "adapter_failure")
    assert any(p.startswith("failure_mode: one of fail_closed, fail_open") for p in adapter["params"])


def test_validate_scenarios(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = Path(__file__).resolve().parents[3] / "scenarios" / "high-reject-rate.json"
    code, out, _ = _run(capsys, "fault", "validate", str(good))
    assert code == 0 and out.strip().endswith("high-reject-rate.json: ok")
    data = experiment.build(experiment.scenario("high-reject-rate"))
    del data["steady-state-hypothesis"]
    bad = tmp_path / "no-hypothesis.json"
    bad.write_text(json.dumps(data))
    code, _, err = _run(capsys, "fault", "validate", str(bad))
    assert code == 2 and "no-hypothesis.json: the experiment has no steady-state-hypothesis" in err
    code, _, err = _run(capsys, "fault", "run", str(bad))
    assert code == 2 and "no steady-state-hypothesis" in err
