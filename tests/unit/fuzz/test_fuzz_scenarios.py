"""chaostoolkit experiments (``scenarios/*.json``), checked as ``pfdrill fault validate`` does."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzzkit import (  # type: ignore[import-not-found]
    FUZZ,
    json_documents,
    parses_or_refuses,
    write,
    yaml_documents,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from pfdrill.chaos import runner, scenario

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[3]
SEEDS = sorted((ROOT / "scenarios").glob("*.json"))
TMP = Path(tempfile.mkdtemp(prefix="pfdrill-fuzz-scenario-"))


def validate(path: Path) -> None:
    experiment, where = scenario.load(path)
    runner.validate(experiment, path, where)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_the_seeds_are_valid(seed: Path) -> None:
    validate(seed)


def _as_yaml(text: str) -> str:
    import json

    import yaml

    return yaml.safe_dump(json.loads(text), sort_keys=False)


@settings(settings.get_profile(FUZZ))
@given(data=st.data())
def test_experiments(data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(SEEDS)).read_text(encoding="utf-8")
    as_yaml = data.draw(st.booleans())
    strategy = yaml_documents(_as_yaml(seed)) if as_yaml else json_documents(seed)
    path = TMP / ("fuzzed.yaml" if as_yaml else "fuzzed.json")
    text = data.draw(strategy)
    parses_or_refuses(lambda: validate(write(path, text)), path)
