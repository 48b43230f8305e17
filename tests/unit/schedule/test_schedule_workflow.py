"""deploy/ci/github/weekly-drills.yml: linted by actionlint (or, when it cannot be built, the
workflow JSON Schema, said out loud), and on the schedule file's crons."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pfdrill.schedule import spec
from pfdrill.toolchain import tools

REPO = Path(__file__).resolve().parents[3]
WORKFLOW = REPO / "deploy" / "ci" / "github" / "weekly-drills.yml"


def test_the_workflow_lints_clean(capsys: pytest.CaptureFixture[str]) -> None:
    got = tools.lint_workflow(WORKFLOW)
    with capsys.disabled():
        print(f"\n[workflow check] {WORKFLOW.name}: {got.checker}"
              + (f" (fallback: {got.note})" if got.note else ""))
    assert got.problems == (), "\n".join(got.problems)


def test_a_broken_workflow_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04"))
    assert tools.lint_workflow(bad).problems


def test_the_workflow_fires_on_the_schedule_files_crons() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    on = doc[True] if True in doc else doc["on"]  # YAML 1.1 reads the key `on` as true
    crons = sorted(c["cron"] for c in on["schedule"])
    assert crons == sorted({e.cron for e in spec.load(REPO / "drills" / "schedule.yaml").entries})
    assert "workflow_dispatch" in on
    run = next(s for s in doc["jobs"]["drills"]["steps"] if s.get("id") == "drills")
    assert ".venv/bin/pfdrill schedule run" in run["run"]
    assert run["env"]["PFDRILL_SUMMARY_WEBHOOK"] == "${{ secrets.PFDRILL_SUMMARY_WEBHOOK }}"


def test_without_actionlint_the_schema_check_runs_and_says_so(tmp_path: Path) -> None:
    from pfdrill.settings.paths import Paths

    empty = Paths(cache=tmp_path, state=tmp_path)
    got = tools.lint_workflow(WORKFLOW, empty, build=False)
    assert got.checker.startswith("JSON Schema") and got.note == "actionlint is not built"
    assert got.problems == ()
    bad = tmp_path / "bad.yml"
    bad.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04"))
    assert tools.lint_workflow(bad, empty, build=False).problems
