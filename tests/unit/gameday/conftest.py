"""Game days on the simulated fabric: one fake world and its drill environment per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.drill import fake
from pfdrill.drill.environment import DrillEnvironment


@pytest.fixture
def world() -> fake.FakeWorld:
    return fake.FakeWorld()


@pytest.fixture
def env(world: fake.FakeWorld, tmp_path: Path) -> DrillEnvironment:
    return fake.environment(world, tmp_path / "drill")
