"""`pfdrill init`: a drill repository that validates, loads its config and collects its features."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pfdrill.cli import main
from pfdrill.scaffold import repository
from pfdrill.settings import assets
from pfdrill.settings.config import Config, load_config

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def team(tmp_path: Path) -> Path:
    assert main(["init", str(tmp_path / "drills-repo")]) == 0
    return tmp_path / "drills-repo"


def test_init_writes_the_reference_material_as_shipped(team: Path) -> None:
    assert (team / repository.SUITE).read_bytes() == (REPO / "drills" / "weekly.yaml").read_bytes()
    assert (team / repository.RUNBOOK).read_bytes() == (REPO / repository.RUNBOOK).read_bytes()
    shipped_inputs = sorted(p.name for p in (REPO / "runbooks" / "seed-inputs").iterdir())
    assert sorted(p.name for p in (team / "runbooks" / "seed-inputs").iterdir()) == shipped_inputs
    features = sorted(p.name for p in (REPO / "features").glob("*.feature"))
    assert sorted(p.name for p in (team / "features").glob("*.feature")) == features
    for script in (repository.CI, repository.GATE):
        assert os.access(team / script, os.X_OK)
        assert subprocess.run(["bash", "-n", str(team / script)], check=False).returncode == 0
    assert (team / repository.GATE).read_bytes() == (REPO / "deploy/ci/gate.sh").read_bytes()
    for py in ("features/conftest.py", "features/test_features.py"):
        compile((team / py).read_text(), py, "exec")


def test_the_config_written_is_pfdrills_defaults_and_is_found_in_the_repository(
        team: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PFDRILL_CONFIG", raising=False)
    monkeypatch.chdir(team)
    cfg = load_config()
    assert cfg.source is not None and Path(cfg.source).name == "pfdrill.yaml"
    defaults = Config()
    assert (cfg.allowed_contexts, cfg.optin_label, cfg.namespace) == (
        defaults.allowed_contexts, defaults.optin_label, defaults.namespace)


def test_the_suite_validates_from_inside_the_repository(
        team: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(team)
    assert main(["drill", "validate", repository.SUITE]) == 0
    assert "5 drill(s) valid" in capsys.readouterr().out


def test_init_changes_nothing_when_a_file_exists_unless_forced(
        team: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (team / "pfdrill.yaml").write_text("allowed_contexts: [staging]\n")
    (team / "README.md").unlink()
    assert main(["init", str(team)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pfdrill: error: {team}: would overwrite pfdrill.yaml, drills/weekly.yaml")
    assert err.endswith("(pass --force to overwrite)\n") and err.count("\n") == 1
    assert (team / "pfdrill.yaml").read_text() == "allowed_contexts: [staging]\n"
    assert not (team / "README.md").exists()
    assert main(["init", str(team), "--force", "--json"]) == 0
    assert "allowed_contexts: [staging]" not in (team / "pfdrill.yaml").read_text()


def _collected(cwd: Path, *args: str) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return sorted(ln for ln in done.stdout.splitlines() if "::" in ln)


@pytest.mark.slow
def test_pytest_collects_the_same_drills_as_pfdrills_own_features(team: Path) -> None:
    ours = _collected(REPO, "features")
    assert ours and _collected(team) == ours


def test_every_file_comes_from_pfdrill_or_its_templates() -> None:
    planned = {f.path for f in repository.plan()}
    shipped_features = {f"features/{p.name}" for p in assets.path("features").glob("*.feature")}
    assert shipped_features <= planned
    assert {repository.CONFIG, repository.SUITE, repository.RUNBOOK, repository.CI} <= planned
