"""The gate's plan on real git repositories: what changed, what runs, and bad input (exit 2)
found before any cluster is touched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pfdrill.cli import main
from pfdrill.errors import InvalidInput
from pfdrill.gate import plan, revision
from pfdrill.model.gate import FindingKind

RB = "runbooks/policy-enforcement-incident-response.md"
PROJECT = ("runbooks", "drills/weekly.yaml", "features")


def test_a_one_section_edit_plans_both_severities_and_the_section_s_drill(
        git_repo: Callable[..., Any]) -> None:
    repo = git_repo(*PROJECT)
    repo.edit(RB, "--timeout=120s\n```\n\n### 3. Security Recovery",
              "--timeout=180s\n```\n\n### 3. Security Recovery")
    repo.commit("longer rollout wait")
    p = plan.make(plan.Request(repo=repo.root))
    assert p.base.name == "merge-base with main"
    assert p.changed == (RB,)
    (judged,) = p.runbooks
    assert judged.book.file == RB and judged.severities == ("SEV-1", "SEV-2")
    assert judged.base_path is not None and judged.base_path.is_file()
    assert [s.drill for s in p.selected] == ["high-reject-rate"]
    assert p.findings == ()
    base_spec = p.base_spec(p.selected[0])
    assert base_spec is not None and base_spec.runbook is not None
    assert Path(base_spec.runbook.path).is_relative_to(p.base_root)


def test_uncommitted_edits_and_changed_files_given_by_the_caller(git_repo: Callable[..., Any]) -> None:
    repo = git_repo(*PROJECT)
    repo.edit(RB, "--prediction-window 10m", "--prediction-window 15m")
    p = plan.make(plan.Request(repo=repo.root, base="main"))
    assert p.changed == (RB,) and len(p.runbooks) == 1 and p.selected == ()
    given = plan.make(plan.Request(repo=repo.root, base="main",
                                   changed=("features/high_reject_rate.feature",)))
    assert given.changed == ("features/high_reject_rate.feature",)
    assert [s.drill for s in given.selected] == ["high-reject-rate"]


def test_the_runbook_a_suite_uses_is_substituted(git_repo: Callable[..., Any]) -> None:
    repo = git_repo(*PROJECT, "tests/unit/runbook/data/seed-runbook.md")
    p = plan.make(plan.Request(repo=repo.root,
                               runbook=Path("tests/unit/runbook/data/seed-runbook.md")))
    (judged,) = p.runbooks  # unchanged, but asked for: checked once, as base and head
    assert judged.book.diff.identical and judged.severities == ("SEV-1", "SEV-2")
    head = p.suites[0].head.drills[0]
    assert head.runbook is not None and head.runbook.path.endswith("seed-runbook.md")
    assert p.selected == ()


def test_a_runbook_that_does_not_parse_at_the_head_is_bad_input(
        git_repo: Callable[..., Any]) -> None:
    repo = git_repo(*PROJECT)
    repo.edit(RB, "## Prevention\n", "## Prevention\n\n```bash\necho 'unclosed\n```\n")
    with pytest.raises(InvalidInput) as err:
        plan.make(plan.Request(repo=repo.root))
    assert err.value.file is not None and err.value.file.endswith(RB)
    assert err.value.line is not None


def test_a_section_a_drill_runs_that_is_gone_is_a_finding_not_bad_input(
        git_repo: Callable[..., Any]) -> None:
    repo = git_repo(*PROJECT)
    repo.edit(RB, "### 2. Performance Recovery", "### 2. Capacity Recovery")
    p = plan.make(plan.Request(repo=repo.root))
    (f,) = p.findings
    assert f.kind is FindingKind.SECTION_MISSING and not f.standing


def test_other_yaml_in_drills_is_not_taken_for_a_suite(git_repo: Callable[..., Any]) -> None:
    repo = git_repo(*PROJECT)
    repo.write("drills/schedule.yaml", "schedules:\n  - name: weekly\n    cron: '0 6 * * 1'\n")
    p = plan.make(plan.Request(repo=repo.root))
    assert [s.file for s in p.suites] == ["drills/weekly.yaml"]


def test_default_branch_from_origin_head_main_or_master(git_repo: Callable[..., Any],
                                                       tmp_path: Path) -> None:
    repo = git_repo("drills/weekly.yaml")
    assert revision.default_branch(repo.root) == "main"
    repo.git("branch", "-m", "main", "trunk")
    with pytest.raises(InvalidInput, match="--base"):
        revision.default_branch(repo.root)
    repo.git("update-ref", "refs/remotes/origin/trunk", "trunk")
    repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    assert revision.default_branch(repo.root) == "origin/trunk"


def test_cli_bad_input_exits_2_naming_the_problem(git_repo: Callable[..., Any],
                                                  capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    repo = git_repo(*PROJECT)
    assert main(["gate", "--repo", str(repo.root), "--base", "nope"]) == 2
    assert "--base 'nope' is not a revision" in capsys.readouterr().err
    outside = tmp_path / "plain"
    outside.mkdir()
    assert main(["gate", "--repo", str(outside)]) == 2
    assert "not inside a git repository" in capsys.readouterr().err
    assert main(["gate", "--repo", str(repo.root), "--only", "nope"]) == 2


def test_cli_nothing_to_judge_passes_without_a_cluster(git_repo: Callable[..., Any],
                                                       capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    repo = git_repo(*PROJECT)
    repo.write("docs/notes.md", "# notes\n")
    repo.commit("docs only")
    code = main(["gate", "--repo", str(repo.root), "--reports", str(tmp_path / "reports"),
                 "--name", "no-such-cluster"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "no regression" in out and "No drill selected" in out
    (summary,) = (tmp_path / "reports" / "gate").glob("*/summary.md")
    assert (summary.parent / "junit.xml").is_file() and (summary.parent / "gate.json").is_file()
