"""``pfdrill drill|report|history``: parse, delegate, print; exit codes 0/1/2/3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pfdrill.cli import main
from pfdrill.drill import fake, wiring
from pfdrill.drill.fake.runbook import SECTIONS

REPO = Path(__file__).resolve().parents[3]


def runbook(tmp_path: Path) -> Path:
    """A runbook with every section the weekly suite names, each with one harmless command."""
    parts = {"Initial Response": ["Incident Declaration"],
             "Incident Response Actions": ["Immediate Mitigation"],
             "Incident Investigation": ["Policy Violation Analysis"],
             "Recovery Procedures": ["Policy Enforcement Recovery", "Performance Recovery"],
             "Post-Incident": ["Incident Documentation", "Post-Mortem", "Process Improvements"],
             "Communication": ["Stakeholder Updates", "Team Communication"]}
    text = "# Runbook\n"
    for part, sections in parts.items():
        text += f"\n## {part}\n"
        for s in sections:
            assert s.lower() in SECTIONS
            text += f"\n### {s}\n\n```bash\nkubectl get pods -n production\n```\n"
    path = tmp_path / "runbooks" / "policy-enforcement-incident-response.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def suite_file(tmp_path: Path) -> Path:
    runbook(tmp_path)
    (tmp_path / "drills").mkdir(exist_ok=True)
    target = tmp_path / "drills" / "weekly.yaml"
    target.write_text((REPO / "drills" / "weekly.yaml").read_text(), encoding="utf-8")
    return target


@pytest.fixture
def fake_world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> fake.FakeWorld:
    world = fake.FakeWorld()
    factory = fake.FakeEnvironmentFactory(world, tmp_path / "state")
    monkeypatch.setattr(wiring.StackEnvironmentFactory, "from_options",
                        classmethod(lambda cls, **kw: factory))
    monkeypatch.setenv("PFDRILL_STATE_DIR", str(tmp_path / "state"))
    return world


def test_validate_a_good_suite(tmp_path: Path, fake_world: Any,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "validate", str(suite_file(tmp_path))]) == 0
    assert "suite 'weekly', 5 drill(s) valid" in capsys.readouterr().out


def test_validate_bad_input_exits_2_with_file_and_line(
        tmp_path: Path, fake_world: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = suite_file(tmp_path)
    path.write_text(path.read_text().replace("severity: SEV-2", "severity: SEV-9"))
    assert main(["drill", "validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"pfdrill: error: {path}:")
    assert "expect.severity: 'SEV-9' is not one of" in err and len(err.splitlines()) == 1
    path.write_text(path.read_text().replace("SEV-9", "SEV-2").replace(
        "name: high_reject_rate", "name: high_rejects"))
    assert main(["drill", "validate", str(path)]) == 2
    assert "unknown fault 'high_rejects'" in capsys.readouterr().err


def test_validate_without_a_fault_catalog_is_an_environment_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from pfdrill.errors import EnvironmentProblem

    def missing() -> Any:
        raise EnvironmentProblem("the fault catalog is not available")
    monkeypatch.setattr(wiring, "fault_catalog", missing)
    assert main(["drill", "validate", str(suite_file(tmp_path))]) == 3
    assert "fault catalog is not available" in capsys.readouterr().err


def test_run_reports_history_and_exit_codes(tmp_path: Path, fake_world: fake.FakeWorld,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = suite_file(tmp_path)
    reports = tmp_path / "reports"
    code = main(["drill", "run", str(path), "--only", "adapter-fail-open", "--reports",
                 str(reports)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "weekly: 1/1 passed" in out.out and "report: " in out.out
    assert "✓ detect" in out.err  # progress on stderr
    fake_world.silenced.add("PolicyEnforcementDisabled")
    code = main(["drill", "run", str(path), "--only", "enforcement-disabled-drift",
                 "--reports", str(reports)])
    out = capsys.readouterr()
    assert code == 1
    assert "enforcement-disabled-drift: FAILED in detect" in out.out
    # report show: the latest run by default, a prefix picks another
    assert main(["report", "show", "--reports", str(reports)]) == 1
    assert "| enforcement-disabled-drift | ❌ failed | detect |" in capsys.readouterr().out
    from pfdrill.report import runs

    first = runs.runs(reports)[0].name
    assert main(["report", "show", first, "--reports", str(reports)]) == 0
    capsys.readouterr()
    assert main(["report", "show", "--paths", "--reports", str(reports)]) == 0
    paths = capsys.readouterr().out.split()
    assert len(paths) == 5 and all(Path(p).is_file() for p in paths)
    # history holds both runs
    assert main(["history"]) == 0
    table = capsys.readouterr().out
    assert "adapter-fail-open" in table and "enforcement-disabled-drift" in table


def test_unknown_only_and_profile_are_bad_input(tmp_path: Path, fake_world: Any,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = suite_file(tmp_path)
    assert main(["drill", "run", str(path), "--only", "nope"]) == 2
    assert "no drill named 'nope'" in capsys.readouterr().err
    assert main(["drill", "run", str(path), "--profile", "fast"]) == 2
    assert fake_world.cluster.calls == []


def test_report_show_without_reports_is_bad_input(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "show", "--reports", str(tmp_path / "none")]) == 2
    assert "no drill reports here yet" in capsys.readouterr().err


def test_history_flags_regressions_for_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from pfdrill.history import store

    monkeypatch.setenv("PFDRILL_STATE_DIR", str(tmp_path))
    db = store.HistoryStore(tmp_path / store.FILENAME)
    from pfdrill.drill import engine, suitefile

    spec = suitefile.load(REPO / "drills" / "weekly.yaml").drills[0]
    for i, delay in enumerate([8, 8, 8, 40]):
        world = fake.FakeWorld(detect_delay_s=delay)
        env = fake.environment(world, tmp_path / f"s{i}")
        db.append(engine.Drill(spec, env, run_id=f"2026010{i}T000000Z-x").run())
    assert main(["history", "--drill", spec.name]) == 0
    assert "REGRESSIONS:" in capsys.readouterr().out
    assert main(["history", "--fail-on-regression"]) == 1
    assert main(["history", "--json", "--last", "2"]) == 0
    assert '"runs": 2' in capsys.readouterr().out
