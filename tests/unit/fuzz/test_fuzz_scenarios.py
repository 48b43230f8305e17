"""chaostoolkit experiments (``scenarios/*.json``), checked as ``pfdrill fault validate`` does."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzzkit import (  # type: ignore[import-not-found]
    FUZZ,
    json_documents,
    parses_or_refuses,
    write,
    yaml_documents,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pfdrill.chaos import runner, scenario

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[3]
SEEDS = sorted((ROOT / "scenarios").glob("*.json"))
TMP = Path(tempfile.mkdtemp(prefix="pfdrill-fuzz-scenario-"))
FIRST = json.loads(SEEDS[0].read_text(encoding="utf-8"))


def validate(path: Path) -> None:
    experiment, where = scenario.load(path)
    runner.validate(experiment, path, where)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_the_seeds_are_valid(seed: Path) -> None:
    validate(seed)


def _cases(seed: Path) -> st.SearchStrategy[tuple[str, str]]:
    text = seed.read_text(encoding="utf-8")
    as_yaml = yaml.safe_dump(json.loads(text), sort_keys=False)
    return (json_documents(text).map(lambda t: (".json", t))
            | yaml_documents(as_yaml).map(lambda t: (".yaml", t)))


def _with(path: list[str | int], value: Any) -> tuple[str, str]:
    """The first seed with one value replaced, written back as JSON."""
    data = copy.deepcopy(FIRST)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return ".json", json.dumps(data, indent=2)


# chaostoolkit's own validator crashed on each of these (AttributeError, TypeError).
@settings(settings.get_profile(FUZZ))
@given(case=st.sampled_from(SEEDS).flatmap(_cases))
@example(case=_with(["steady-state-hypothesis", "probes", 0, "provider", "module"], True))
@example(case=_with(["configuration", "pfdrill_cluster", "key"], True))
@example(case=_with(["method", 0], True))
@example(case=_with(["runtime"], True))
@example(case=_with(["extensions"], True))
@example(case=_with(["controls"], True))
@example(case=_with(["secrets"], True))
def test_experiments(case: tuple[str, str]) -> None:
    suffix, text = case
    path = TMP / f"fuzzed{suffix}"
    parses_or_refuses(lambda: validate(write(path, text)), path)
