"""A project in a temp dir: the real weekly suite and runbook, a schedule file to edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "drills").mkdir()
    shutil.copytree(REPO / "runbooks", tmp_path / "runbooks")
    for name in ("weekly.yaml", "schedule.yaml"):
        shutil.copy2(REPO / "drills" / name, tmp_path / "drills" / name)
    return tmp_path


@pytest.fixture
def schedule_file(project: Path) -> Path:
    return project / "drills" / "schedule.yaml"
