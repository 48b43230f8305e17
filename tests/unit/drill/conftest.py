"""Fixtures for drill unit tests: a fake world, its environment, the weekly suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.drill import fake, suitefile
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.model.drill import DrillSpec, SuiteSpec

REPO = Path(__file__).resolve().parents[3]
WEEKLY = REPO / "drills" / "weekly.yaml"


@pytest.fixture
def world() -> fake.FakeWorld:
    return fake.FakeWorld()


@pytest.fixture
def env(world: fake.FakeWorld, tmp_path: Path) -> DrillEnvironment:
    return fake.environment(world, tmp_path)


@pytest.fixture(scope="session")
def weekly() -> SuiteSpec:
    return suitefile.load(WEEKLY)


@pytest.fixture
def fail_open(weekly: SuiteSpec) -> DrillSpec:
    return next(d for d in weekly.drills if d.name == "adapter-fail-open")
