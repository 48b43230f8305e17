from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfdrill.errors import InvalidInput
from pfdrill.fabric import certs
from pfdrill.fabric.authority import Authority, Identity, ca_dir
from pfdrill.fabric.labels import Label
from pfdrill.settings.paths import Paths

NOW = 1_800_000_000.0


def test_issued_certificate_verifies_and_carries_its_claims(authority: Authority) -> None:
    ident = authority.issue("svc-a", ["read", "write"], Label.CONFIDENTIAL, now=NOW)
    cert = certs.verify(ident.certificate, authority.bundle(), NOW)
    assert cert.principal == "svc-a"
    assert cert.actions == ("read", "write")
    assert cert.clearance is Label.CONFIDENTIAL
    assert cert.key_id == authority.key_id
    assert cert.allows("read") and not cert.allows("export")


def test_expired_and_not_yet_valid_are_rejected(authority: Authority) -> None:
    ident = authority.issue("svc-a", ["read"], not_before=int(NOW), not_after=int(NOW) + 10)
    with pytest.raises(certs.CertificateRejected) as early:
        certs.verify(ident.certificate, authority.bundle(), NOW - 1)
    assert early.value.reason == "not_yet_valid"
    with pytest.raises(certs.CertificateRejected) as late:
        certs.verify(ident.certificate, authority.bundle(), NOW + 10)
    assert late.value.reason == "expired"
    assert certs.verify(ident.certificate, authority.bundle(), NOW + 9).principal == "svc-a"


def test_certificate_from_another_ca_is_rejected(authority: Authority) -> None:
    other = Authority.generate()
    ident = other.issue("svc-a", ["read"], now=NOW)
    with pytest.raises(certs.CertificateRejected) as exc:
        certs.verify(ident.certificate, authority.bundle(), NOW)
    assert exc.value.reason == "unknown_ca"


def test_resigned_payload_with_a_foreign_key_but_trusted_key_id_is_rejected(authority: Authority) -> None:
    # An attacker copies the trusted key id into a payload signed with their own key.
    forger = Authority.generate()
    good = authority.issue("svc-a", ["read"], now=NOW)
    payload, _, _ = certs.decode(good.certificate)
    data = json.loads(payload)
    data["actions"] = ["*"]
    forged_payload = certs.canonical_json(data)
    forged = certs.encode(forged_payload, forger._key.sign(forged_payload))
    with pytest.raises(certs.CertificateRejected) as exc:
        certs.verify(forged, authority.bundle(), NOW)
    assert exc.value.reason == "bad_signature"


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_never_verifies(authority: Authority, data: st.DataObject) -> None:
    ident = authority.issue("svc-a", ["read"], now=NOW)
    raw = bytearray(ident.certificate.encode("ascii"))
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    raw[index] ^= mask
    with pytest.raises(certs.CertificateRejected):
        certs.verify(bytes(raw), authority.bundle(), NOW)


@pytest.mark.parametrize("token", ["", "pfcap1", "pfcap1..", "x.y.z", "pfcap1.!!!.AAAA", "pfcap1.e30.AAAA"])
def test_garbage_tokens_are_malformed(authority: Authority, token: str) -> None:
    with pytest.raises(certs.CertificateRejected) as exc:
        certs.verify(token, authority.bundle(), NOW)
    assert exc.value.reason == "malformed"


def test_trust_bundle_round_trip_and_corruption(authority: Authority) -> None:
    text = authority.bundle().to_json()
    assert certs.TrustBundle.parse(text).keys == authority.bundle().keys
    for corrupt in ("", "{", "[]", '{"version": 1, "keys": []}',
                    text.replace('"ed25519"', '"rsa"'),
                    text.replace(authority.key_id, "0" * 16)):
        with pytest.raises(InvalidInput, match=r"trust-bundle\.json: corrupt trust bundle"):
            certs.TrustBundle.parse(corrupt)


def test_ca_key_is_kept_private_under_the_state_dir(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    paths = Paths(cache=tmp_path / "cache", state=tmp_path / "state")
    first = Authority.for_context("arn:aws:eks:eu/cluster", paths)
    again = Authority.for_context("arn:aws:eks:eu/cluster", paths)
    key = ca_dir("arn:aws:eks:eu/cluster", paths) / "ca.key"
    assert key.parent.parent == tmp_path / "state" / "fabric-ca"
    assert key.stat().st_mode & 0o777 == 0o600
    assert first.key_id == again.key_id


def test_identity_round_trip(authority: Authority) -> None:
    ident = authority.issue("svc-a", ["read"], now=time.time())
    assert Identity.from_dict(ident.to_dict()) == ident
