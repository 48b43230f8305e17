"""The thresholds table (``deploy/alerts/thresholds.yaml``), validated against the runbook's table."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzzkit import (  # type: ignore[import-not-found]
    DEEP,
    FUZZ,
    alias_bomb,
    parses_or_refuses,
    write,
    yaml_documents,
)
from hypothesis import example, given, settings

from pfdrill.classify import thresholds

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[3]
SEED = (ROOT / "deploy" / "alerts" / "thresholds.yaml").read_text(encoding="utf-8")
FILE = Path(tempfile.mkdtemp(prefix="pfdrill-fuzz-thresholds-")) / "thresholds.yaml"


def test_the_seed_is_valid() -> None:
    assert thresholds.load(write(FILE, SEED)).rows


@settings(settings.get_profile(FUZZ))
@given(text=yaml_documents(SEED))
@example(text=alias_bomb())
@example(text=DEEP)  # the PyYAML loader of obs/yamldoc: RecursionError
def test_thresholds_files(text: str) -> None:
    parses_or_refuses(lambda: thresholds.load(write(FILE, text)), FILE)
