from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.faults.fake import FabricWorld, fabric_world


@pytest.fixture
def world(tmp_path: Path) -> FabricWorld:
    return fabric_world(tmp_path)
