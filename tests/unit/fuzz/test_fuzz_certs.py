"""Trust bundles (Secret ``fabric-certs``, ``pfctl trust verify``), CA keys and certificate tokens."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzzkit import (  # type: ignore[import-not-found]
    FUZZ,
    json_documents,
    mutated_text,
    noise,
    parses_or_refuses,
    write,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pfdrill.fabric import certs
from pfdrill.fabric.authority import Authority
from pfdrill.pfctl import trust

pytestmark = pytest.mark.fuzz

TMP = Path(tempfile.mkdtemp(prefix="pfdrill-fuzz-certs-"))
CA = Authority.generate()
SECOND = Authority.generate()
BUNDLE = certs.TrustBundle.merge([CA.bundle(), SECOND.bundle()]).to_json()
CA.save(TMP / "seed-ca.pem")
KEY = (TMP / "seed-ca.pem").read_text()
TOKEN = CA.issue("alice", ["read"], not_before=0, not_after=2**31).certificate


def test_the_seeds_are_valid() -> None:
    assert len(trust.verify_file(write(TMP / "bundle.json", BUNDLE))["keys"]) == 2
    assert Authority.load(TMP / "seed-ca.pem").key_id == CA.key_id
    assert certs.verify(TOKEN, certs.TrustBundle.parse(BUNDLE), now=100).principal == "alice"


@settings(settings.get_profile(FUZZ))
@given(text=json_documents(BUNDLE))
@example(text="[" * 3000)
@example(text=":\x00")
@example(text='{"version": 1, "keys": [{"algorithm": "ed25519", "public_key": "' + "A" * 43 + '"}]}')
def test_trust_bundles(text: str) -> None:
    path = TMP / "bundle.json"
    parses_or_refuses(lambda: trust.verify_file(write(path, text)), path)


@settings(settings.get_profile(FUZZ))
@given(text=mutated_text(KEY) | noise)
def test_ca_keys(text: str) -> None:
    path = TMP / "ca.pem"
    parses_or_refuses(lambda: Authority.load(write(path, text)), path)


@settings(settings.get_profile(FUZZ))
@given(token=mutated_text(TOKEN) | noise | st.binary(max_size=80))
def test_certificate_tokens(token: str | bytes) -> None:
    bundle = certs.TrustBundle.parse(BUNDLE)
    try:
        certs.verify(token, bundle, now=100)
    except certs.CertificateRejected as exc:
        assert exc.reason in {"malformed", "unknown_ca", "bad_signature", "not_yet_valid",
                              "expired"} and "\n" not in str(exc)
