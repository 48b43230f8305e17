"""DFA artifacts: ``pfctl validate --dfa`` on a file, and the fabric manifests' policy sources."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from fuzzkit import FUZZ, json_documents, parses_or_refuses, write  # type: ignore[import-not-found]
from hypothesis import example, given, settings

from pfdrill.fabric import manifests
from pfdrill.pfctl import dfacheck

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[3]
SEED = (ROOT / "deploy" / "fabric" / "dfa.json").read_text(encoding="utf-8")
TMP = Path(tempfile.mkdtemp(prefix="pfdrill-fuzz-dfa-"))
shutil.copytree(ROOT / "deploy" / "fabric", TMP / "fabric")
SOURCE = TMP / "fabric" / "dfa.json"
FILE = TMP / "artifact" / "dfa.json"


def _odd_event() -> str:
    """The seed with an event whose name holds a newline and whose target is null."""
    data = json.loads(SEED)
    data["transitions"]["reviewed"]["e\n"] = None
    return json.dumps(data, indent=2)


def test_the_seed_is_valid() -> None:
    assert dfacheck.validate(write(FILE, SEED))["states"] > 1
    manifests.policy_sources(TMP / "fabric")


@settings(settings.get_profile(FUZZ))
@given(text=json_documents(SEED))
@example(text="[" * 3000)
@example(text='{"version": 1, "version": 1}')
@example(text=_odd_event())  # the refusal quoted the key: a message over two lines
def test_dfa_artifacts(text: str) -> None:
    parses_or_refuses(lambda: dfacheck.validate(write(FILE, text)), FILE)


@settings(settings.get_profile(FUZZ))
@given(text=json_documents(SEED))
def test_dfa_sources_of_the_manifests(text: str) -> None:
    write(SOURCE, text)
    parses_or_refuses(lambda: manifests.policy_sources(TMP / "fabric"), SOURCE)
