from __future__ import annotations

import json

import pytest
from fabric_support import DEPLOY, dfa_files, reference_dfa

from pfdrill.fabric import dfa as dfa_mod
from pfdrill.fabric.dfa import DfaRefused, load_artifact


def test_reference_dfa_loads_and_decides() -> None:
    d = reference_dfa()
    assert d.name == "session-lifecycle"
    assert d.violation(["login"], "read") is None
    assert d.violation(["login", "review"], "export") is None
    assert d.violation([], "read") == "dfa:session-lifecycle state=anonymous event=read"
    assert d.violation(["login", "write"], "export") == "dfa:session-lifecycle state=active event=export"
    assert d.violation(["login", "review", "write"], "export") is not None  # a write voids the review
    assert "not in alphabet" in (d.violation(["login"], "teleport") or "")
    assert d.violation(["login"], "delete") is not None


def test_sha256_file_matches_sha256sum_format() -> None:
    raw = (DEPLOY / "dfa.json").read_bytes()
    line = dfa_mod.digest_line(raw)
    assert line.endswith("  dfa.json\n") and len(line.split()[0]) == 64


def test_bad_sha256_is_refused() -> None:
    files = dfa_files()
    files[dfa_mod.DFA_KEY] = files[dfa_mod.DFA_KEY].replace(b'"delete"', b'"drop"')
    with pytest.raises(DfaRefused) as exc:
        load_artifact(files)
    assert exc.value.reason == "sha256" and "mismatch" in str(exc.value)


def test_missing_digest_is_refused() -> None:
    files = dfa_files()
    del files[dfa_mod.SHA_KEY]
    with pytest.raises(DfaRefused) as exc:
        load_artifact(files)
    assert exc.value.reason == "missing"


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d.pop("start"), "start"),
    (lambda d: d.update(version=2), "version"),
    (lambda d: d.update(start="nowhere"), "start state"),
    (lambda d: d["transitions"]["active"].update(read="limbo"), "unknown state"),
    (lambda d: d["transitions"]["active"].update(fly="active"), "not in the alphabet"),
    (lambda d: d["transitions"].update(ghost={}), "unknown state"),
    (lambda d: d.update(extra=True), "Additional properties"),
])
def test_schema_invalid_dfa_is_refused_even_with_a_correct_digest(mutate, where) -> None:  # type: ignore[no-untyped-def]
    data = json.loads((DEPLOY / "dfa.json").read_text())
    mutate(data)
    with pytest.raises(DfaRefused) as exc:
        load_artifact(dfa_files(json.dumps(data).encode()))
    assert exc.value.reason == "schema"
    assert where in str(exc.value)


def test_not_json_is_refused() -> None:
    with pytest.raises(DfaRefused) as exc:
        load_artifact(dfa_files(b"{not json"))
    assert exc.value.reason == "json"


def test_round_trip() -> None:
    d = reference_dfa()
    again = dfa_mod.Dfa.from_dict(d.to_dict())
    assert again.transitions == d.transitions and again.start == d.start
