"""Witnesses: a principal's signature over the exact request it makes.

A witness proves that whoever sent the request holds the private key bound
into the certificate (``subject_key``) and that nothing in the request was
changed on the way: it is an Ed25519 signature over the canonical JSON of
principal, action, trace, labels and the sha256 of the certificate token.
A witness made for one request or one certificate never validates another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from pfdrill.fabric import certs


def message(
    principal: str, action: str, trace: Sequence[str], labels: dict[str, Any] | None,
    certificate: str,
) -> bytes:
    """The bytes a witness signs."""
    return certs.canonical_json({
        "principal": principal,
        "action": action,
        "trace": list(trace),
        "labels": labels or {},
        "certificate_sha256": certs.fingerprint(certificate),
    })


def sign(key: Ed25519PrivateKey, msg: bytes) -> str:
    return certs.b64e(key.sign(msg))


def valid(witness: str, msg: bytes, subject_key: str) -> bool:
    """True when ``witness`` is the subject's signature over ``msg``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(certs.b64d(subject_key))
        key.verify(certs.b64d(witness), msg)
    except (InvalidSignature, ValueError):
        return False
    return True
