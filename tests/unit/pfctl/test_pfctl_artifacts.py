"""collect tarballs, violation summaries, DFA validation, trust bundles."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import InvalidInput
from pfdrill.fabric import certs
from pfdrill.fabric.authority import Authority
from pfdrill.fabric.logline import LogLine
from pfdrill.pfctl import collect, dfacheck, trust, violations
from pfdrill.pfctl.context import Context

DFA = (Path(__file__).resolve().parents[3] / "deploy" / "fabric" / "dfa.json").read_bytes()


def decision(principal: str, rule: str, tags: tuple[str, ...], reason: str = "permit") -> str:
    return LogLine("WARNING", "decision", tags, {"mode": "enforce", "outcome": "reject",
                                                   "principal": principal, "action": "export",
                                                   "reason": reason, "rule": rule}).render()


def test_collect_packs_configmaps_logs_events_and_no_secret_values(
        make_ctx: Callable[..., Context], tmp_path: Path, authority: Authority) -> None:
    ctx = make_ctx(logs={"app=sidecar-watcher": {"sidecar-watcher-a": "line one\nline two\n"}})
    out = tmp_path / "incident.tar.gz"
    manifest = collect.collect(ctx, out)
    with tarfile.open(out) as tar:
        names = tar.getnames()
        data = {n: tar.extractfile(n).read() for n in names}  # type: ignore[union-attr]
    assert names[0] == "manifest.json"
    for member in ("configmaps/policy-config.yaml", "configmaps/dfa-artifact.yaml",
                   "deployments.json", "pods.json", "events.json", "secrets.json",
                   "logs/sidecar-watcher-a.log"):
        assert member in names, member
    assert data["logs/sidecar-watcher-a.log"] == b"line one\nline two\n"
    assert json.loads(data["secrets.json"]) == [{"name": "fabric-certs",
                                                  "keys": ["trust-bundle.json"]}]
    public = certs.b64e(authority.public_raw).encode()
    assert not any(public in blob for blob in data.values())
    assert "metrics.json" in manifest["missing"]  # no Prometheus in this environment
    assert json.loads(data["manifest.json"])["files"] == manifest["files"]


def test_violations_summarised_by_type_principal_and_rule() -> None:
    lines = [decision("svc-intern", "interns-no-export", ("REJECT", "POLICY_VIOLATION")),
             decision("svc-intern", "interns-no-export", ("REJECT", "POLICY_VIOLATION")),
             "[pod/w-1/sidecar-watcher] " + decision("svc-x", "dfa:session", ("REJECT",), "dfa"),
             "not a fabric line", ""]
    s = violations.summarise(lines)
    assert (s["total"], s["parsed"], s["unparsed"]) == (4, 3, 1)
    assert s["by_type"] == {"REJECT": 3, "POLICY_VIOLATION": 2}
    assert s["by_principal"] == {"svc-intern": 2, "svc-x": 1}
    assert s["by_rule"] == {"interns-no-export": 2, "dfa:session": 1}
    assert s["by_reason"] == {"permit": 2, "dfa": 1}


def write_artifact(tmp_path: Path, raw: bytes, sha: bytes | None = None) -> Path:
    path = tmp_path / "artifact" / "dfa.json"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(raw)
    digest = sha if sha is not None else hashlib.sha256(raw).hexdigest().encode()
    (path.parent / "dfa.json.sha256").write_bytes(digest + b"  dfa.json\n")
    return path


def test_the_reference_dfa_validates(tmp_path: Path) -> None:
    r = dfacheck.validate(write_artifact(tmp_path, DFA))
    assert r["name"] == "session-lifecycle"
    assert set(r["checks"]) == {"sha256", "schema", "determinism", "reachability"}
    assert r["unused_events"] == ["delete"]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.replace(b'"export": "reviewed"', b'"export": "active"'), "sha256 mismatch"),
    (lambda d: d.replace(b'"read": "active", ', b'"read": "active", "read": "reviewed", '),
     "not deterministic: key read appears twice"),
    (lambda d: d.replace(b'"states": ["anonymous", "active", "reviewed"]',
                         b'"states": ["anonymous", "active", "reviewed", "backdoor"]'),
     "unreachable state(s) from 'anonymous': backdoor"),
    (lambda d: d.replace(b'"start": "anonymous"', b'"start": "nowhere"'), "start state"),
    (lambda d: d.replace(b'"version": 1', b'"version": "one"'), "DFA schema"),
    (lambda d: d[:40], "not JSON"),
])
def test_a_tampered_or_broken_artifact_is_refused(tmp_path: Path, mutate: Callable[[bytes], bytes],
                                                  message: str) -> None:
    raw = mutate(DFA)
    assert raw != DFA
    # The tampering in the first case leaves the old digest; the others re-sign.
    sha = hashlib.sha256(DFA).hexdigest().encode() if message == "sha256 mismatch" else None
    with pytest.raises(InvalidInput) as err:
        dfacheck.validate(write_artifact(tmp_path, raw, sha))
    assert message in err.value.message
    assert err.value.file is not None and err.value.file.endswith("dfa.json")


def test_the_trust_bundle_verifies_and_proves_the_issuing_path(
        ctx: Context, authority: Authority) -> None:
    _, bundle = trust.read_bundle(ctx)
    r = trust.verify_bundle(bundle, authority)
    assert r["keys"] == [authority.key_id]
    assert r["issuer"] == f"certificates from CA {authority.key_id} verify"
    with pytest.raises(InvalidInput, match="is not trusted by the bundle"):
        trust.verify_bundle(bundle, Authority.generate())


@pytest.mark.parametrize("corrupt", [
    lambda raw: raw[: len(raw) // 2],
    lambda raw: raw.replace(b'"algorithm": "ed25519"', b'"algorithm": "rsa"'),
    lambda raw: raw.replace(b'"key_id": "', b'"key_id": "0'),
    lambda raw: raw.replace(b'"public_key": "', b'"public_key": "A'),
])
def test_a_corrupted_bundle_is_rejected(ctx: Context, cluster: FakeCluster, authority: Authority,
                                        tmp_path: Path, corrupt: Callable[[bytes], bytes]) -> None:
    bad = corrupt(authority.bundle().to_json().encode())
    cluster.replace_secret("production", "fabric-certs", {certs.BUNDLE_KEY: bad})
    with pytest.raises(InvalidInput, match="corrupt trust bundle") as err:
        trust.read_bundle(ctx)
    assert err.value.file == "secret production/fabric-certs"
    path = tmp_path / "bundle.json"
    path.write_bytes(bad)
    with pytest.raises(InvalidInput, match="corrupt trust bundle"):
        trust.verify_file(path)
