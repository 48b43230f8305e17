from __future__ import annotations

from pfdrill.fabric import certs, witness
from pfdrill.fabric.authority import Authority, Identity

LABELS = {"source": "internal", "destination": "internal"}


def _sign(ident: Identity, action: str = "read") -> str:
    return witness.sign(ident.signing_key(), witness.message(
        ident.principal, action, ["login"], LABELS, ident.certificate))


def _subject(ident: Identity) -> str:
    return certs.decode(ident.certificate)[2].subject_key


def test_witness_validates_only_its_own_request(frontend: Identity) -> None:
    w = _sign(frontend)
    msg = witness.message(frontend.principal, "read", ["login"], LABELS, frontend.certificate)
    assert witness.valid(w, msg, _subject(frontend))
    other_action = witness.message(frontend.principal, "write", ["login"], LABELS, frontend.certificate)
    assert not witness.valid(w, other_action, _subject(frontend))
    other_labels = witness.message(frontend.principal, "read", ["login"],
                                   {"source": "secret", "destination": "public"}, frontend.certificate)
    assert not witness.valid(w, other_labels, _subject(frontend))


def test_witness_is_bound_to_the_certificate(authority: Authority, frontend: Identity) -> None:
    twin = authority.issue(frontend.principal, ["read"])
    w = _sign(frontend)
    msg_for_twin = witness.message(frontend.principal, "read", ["login"], LABELS, twin.certificate)
    assert not witness.valid(w, msg_for_twin, _subject(twin))
    assert not witness.valid(w, msg_for_twin, _subject(frontend))


def test_garbage_witness_is_invalid_not_an_error(frontend: Identity) -> None:
    msg = witness.message(frontend.principal, "read", ["login"], LABELS, frontend.certificate)
    for junk in ("", "!!", "AAAA", _sign(frontend)[:-2]):
        assert not witness.valid(junk, msg, _subject(frontend))
