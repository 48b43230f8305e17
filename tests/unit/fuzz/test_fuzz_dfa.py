"""DFA artifacts: ``pfctl validate --dfa`` on a file, and the fabric manifests' policy check.

kustomize turns ``deploy/fabric/dfa.json`` into ConfigMap ``dfa-artifact``;
:func:`manifests.check_policy` then refuses a DFA the watcher would refuse. The
fuzzed source is given a matching digest, as a maintainer regenerating it would.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import pytest
from fuzzkit import FUZZ, json_documents, parses_or_refuses, write  # type: ignore[import-not-found]
from hypothesis import assume, example, given, settings

from pfdrill.errors import InvalidInput
from pfdrill.fabric import manifests
from pfdrill.pfctl import dfacheck

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[3]
BASE = ROOT / "deploy" / "fabric"
SEED = (BASE / "dfa.json").read_text(encoding="utf-8")
RULES = (BASE / "adapter-rules.yaml").read_text(encoding="utf-8")
TMP = Path(tempfile.mkdtemp(prefix="pfdrill-fuzz-dfa-"))
FILE = TMP / "artifact" / "dfa.json"


def _objects(dfa_text: str) -> list[dict[str, object]]:
    """The two policy ConfigMaps as kustomize generates them from the base's sources."""
    raw = dfa_text.encode("utf-8")
    digest = f"{hashlib.sha256(raw).hexdigest()}  dfa.json\n"
    return [{"kind": "ConfigMap", "metadata": {"name": "dfa-artifact"},
             "data": {"dfa.json": dfa_text, "dfa.json.sha256": digest}},
            {"kind": "ConfigMap", "metadata": {"name": "policy-adapter-config"},
             "data": {"rules.yaml": RULES}}]


def _odd_event() -> str:
    """The seed with an event whose name holds a newline and whose target is null."""
    data = json.loads(SEED)
    data["transitions"]["reviewed"]["e\n"] = None
    return json.dumps(data, indent=2)


def test_the_seed_is_valid() -> None:
    assert dfacheck.validate(write(FILE, SEED))["states"] > 1
    manifests.check_policy(_objects(SEED), BASE)


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
    # kustomize reads the source file's bytes: a ConfigMap never holds a lone surrogate
    assume(text == text.encode("utf-8", "replace").decode("utf-8"))
    try:
        manifests.check_policy(_objects(text), BASE)
    except InvalidInput as exc:
        assert exc.file is not None and Path(exc.file) == BASE, exc.one_line()
        assert "\n" not in exc.one_line(), exc.one_line()
