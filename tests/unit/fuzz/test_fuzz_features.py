"""Gherkin features, parsed by pytest-bdd and checked against pfdrill's step library."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from fuzzkit import (  # type: ignore[import-not-found]
    FUZZ,
    mutated_text,
    noise,
    parses_or_refuses,
    write,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pfdrill.bdd import featurefile

pytestmark = pytest.mark.fuzz

SEEDS = sorted((Path(__file__).resolve().parents[3] / "features").glob("*.feature"))
FILE = Path(tempfile.mkdtemp(prefix="pfdrill-fuzz-features-")) / "fuzzed.feature"


def gherkin_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


@settings(settings.get_profile(FUZZ))
@given(text=st.sampled_from(SEEDS).flatmap(lambda p: mutated_text(p.read_text())) | noise)
@example(text="")  # pytest-bdd's own collection fails on it with KeyError: 'feature'
@example(text="# language: fr\n# only comments\n")
def test_features(text: str) -> None:
    parses_or_refuses(lambda: featurefile.check(write(FILE, text)), FILE, lines=gherkin_lines)
