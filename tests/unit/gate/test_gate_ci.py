"""The gate's CI integration: the workflow files pass their validators (which validator ran is
printed, and none passes silently), both call deploy/ci/gate.sh, and gate.sh itself runs the
gate, writes the step summary and passes the gate's exit code on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pfdrill.toolchain import tools

REPO = Path(__file__).resolve().parents[3]
GITHUB = REPO / "deploy" / "ci" / "github" / "runbook-gate.yml"
GITLAB = REPO / "deploy" / "ci" / "gitlab" / "runbook-gate.gitlab-ci.yml"
GATE_SH = REPO / "deploy" / "ci" / "gate.sh"
PATHS = ["runbooks/**", "features/**", "drills/**"]


def test_the_github_workflow_lints_clean(capsys: pytest.CaptureFixture[str]) -> None:
    got = tools.lint_workflow(GITHUB)
    with capsys.disabled():
        print(f"\n[workflow check] {GITHUB.name}: {got.checker}"
              + (f" (fallback: {got.note})" if got.note else ""))
    assert got.problems == (), "\n".join(got.problems)


def test_a_broken_github_workflow_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(GITHUB.read_text().replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04"))
    assert tools.lint_workflow(bad).problems


def test_the_github_workflow_gates_pull_requests_through_gate_sh() -> None:
    doc = yaml.safe_load(GITHUB.read_text())
    on = doc[True] if True in doc else doc["on"]  # YAML 1.1 reads the key `on` as true
    assert on["pull_request"]["paths"] == PATHS
    steps = doc["jobs"]["gate"]["steps"]
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache@"))
    assert cache["with"]["path"] == "~/.cache/pfdrill"
    gate = next(s for s in steps if s.get("run") == "deploy/ci/gate.sh")
    assert gate["env"]["PFDRILL_GATE_BASE"] == "origin/${{ github.base_ref }}"
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/gate/"
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0


def gitlab_schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.gitlab-ci", "--data-transform", "gitlab-ci", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_gitlab_file_passes_the_gitlab_ci_schema(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    done = gitlab_schema_check(GITLAB)
    with capsys.disabled():
        print(f"\n[workflow check] {GITLAB.name}: JSON Schema (check-jsonschema, gitlab-ci)")
    assert done.returncode == 0, done.stdout + done.stderr
    bad = tmp_path / "bad.gitlab-ci.yml"
    bad.write_text(GITLAB.read_text().replace("  script:\n", "  scripts:\n"))
    assert gitlab_schema_check(bad).returncode != 0


def test_the_gitlab_job_gates_merge_requests_through_gate_sh() -> None:
    job = yaml.safe_load(GITLAB.read_text())["runbook-gate"]
    (rule,) = job["rules"]
    assert rule["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert rule["changes"] == [p + "/*" for p in PATHS]
    assert job["script"] == ["deploy/ci/gate.sh"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert job["cache"]["paths"] == [".cache/pfdrill/"]
    assert job["variables"]["PFDRILL_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pfdrill"
    assert job["artifacts"]["reports"]["junit"] == "reports/gate/latest/junit.xml"


def test_gate_sh_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is not installed (make deps installs it)"
    done = subprocess.run([shellcheck, str(GATE_SH)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


def gate_sh(repo: Path, tmp_path: Path, **env: str) -> tuple[int, str, Path]:
    summary = tmp_path / "step-summary.md"
    summary.write_text("")
    full = {**os.environ, "PFDRILL": str(Path(sys.executable).parent / "pfdrill"),
            "GITHUB_STEP_SUMMARY": str(summary), "PFDRILL_GATE_REPORTS": str(tmp_path / "r"),
            "PFDRILL_GATE_CLUSTER": "gate-sh-no-cluster", **env}
    full.pop("CI", None)
    done = subprocess.run([str(GATE_SH)], cwd=repo, env=full, capture_output=True, text=True,
                          timeout=600, check=False)
    return done.returncode, done.stdout + done.stderr, summary


def test_gate_sh_runs_the_gate_and_writes_the_step_summary(git_repo: Callable[..., Any],
                                                            tmp_path: Path) -> None:
    repo = git_repo("runbooks", "drills/weekly.yaml", "features")
    repo.write("docs/notes.md", "# notes\n")
    repo.commit("docs only")
    shutil.copytree(REPO / "deploy" / "ci", repo.root / "deploy" / "ci")
    code, out, summary = gate_sh(repo.root, tmp_path, GITHUB_BASE_REF="main")
    assert code == 0, out
    text = summary.read_text()
    assert "pfdrill gate: no regression" in text and "No drill selected" in text
    latest = tmp_path / "r" / "gate" / "latest"
    assert (latest / "junit.xml").is_file() and (latest / "summary.md").read_text() == text


def test_gate_sh_passes_bad_input_on_as_exit_2(git_repo: Callable[..., Any],
                                              tmp_path: Path) -> None:
    repo = git_repo("runbooks", "drills/weekly.yaml", "features")
    code, out, summary = gate_sh(repo.root, tmp_path, PFDRILL_GATE_BASE="no-such-rev")
    assert code == 2, out
    assert "--base 'no-such-rev' is not a revision" in out
    assert "pfdrill gate wrote no report (exit 2)" in summary.read_text()
