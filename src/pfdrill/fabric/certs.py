"""Capability certificates and the trust bundle that verifies them.

A capability certificate says *who* (principal) may do *what* (actions) up to
which security label (clearance), *when* (not_before/not_after, Unix
seconds), and binds the principal's own Ed25519 public key (``subject_key``)
so that the principal can sign witnesses (:mod:`pfdrill.fabric.witness`).
The CA signs it with its Ed25519 key; ``key_id`` names that key in the
trust bundle. On the wire a certificate is one ASCII token::

    pfcap1.<base64url(canonical JSON payload)>.<base64url(signature)>

Decoding is strict — base64 must re-encode to exactly the same text — so that
no byte of a token can change without the signature check failing (unused
base64 padding bits would otherwise let a flipped byte through).

The trust bundle (Secret ``fabric-certs``, key ``trust-bundle.json``) lists
the CA public keys the watcher accepts; several keys allow rotation.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pfdrill.errors import InvalidInput
from pfdrill.fabric.labels import Label

TOKEN_PREFIX = "pfcap1"
BUNDLE_KEY = "trust-bundle.json"  # key in Secret fabric-certs
BUNDLE_VERSION = 1


class CertificateRejected(InvalidInput):
    """A certificate did not verify; ``reason`` is one short word for logs and metrics."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(f"certificate rejected ({reason}): {detail}")


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    """Strict base64url: anything that does not re-encode identically is refused."""
    try:
        padded = text + "=" * (-len(text) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64url: {exc}") from None
    if b64e(raw) != text:
        raise ValueError("not canonical base64url")
    return raw


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def key_id_for(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class CapabilityCertificate:
    principal: str
    actions: tuple[str, ...]
    clearance: Label
    not_before: int
    not_after: int
    key_id: str
    subject_key: str  # base64url of the principal's raw Ed25519 public key
    serial: str

    def allows(self, action: str) -> bool:
        return "*" in self.actions or action in self.actions

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": 1,
            "principal": self.principal,
            "actions": sorted(self.actions),
            "clearance": self.clearance.value,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "key_id": self.key_id,
            "subject_key": self.subject_key,
            "serial": self.serial,
        }

    @classmethod
    def from_dict(cls, data: Any) -> CapabilityCertificate:
        if not isinstance(data, dict) or data.get("v") != 1:
            raise ValueError("payload is not a version-1 certificate")
        actions = data.get("actions")
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            raise ValueError("actions must be a list of strings")
        for name in ("principal", "key_id", "subject_key", "serial"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise ValueError(f"{name} must be a non-empty string")
        for name in ("not_before", "not_after"):
            if not isinstance(data.get(name), int) or isinstance(data.get(name), bool):
                raise ValueError(f"{name} must be an integer (Unix seconds)")
        return cls(
            principal=data["principal"],
            actions=tuple(actions),
            clearance=Label.parse(data.get("clearance")),
            not_before=data["not_before"],
            not_after=data["not_after"],
            key_id=data["key_id"],
            subject_key=data["subject_key"],
            serial=data["serial"],
        )


@dataclasses.dataclass(frozen=True)
class TrustBundle:
    """CA public keys by key id."""

    keys: dict[str, bytes]

    def __post_init__(self) -> None:
        # Public-key objects are parsed once; verification happens per request.
        parsed = {k: Ed25519PublicKey.from_public_bytes(v) for k, v in self.keys.items()}
        object.__setattr__(self, "_parsed", parsed)

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        parsed: dict[str, Ed25519PublicKey] = getattr(self, "_parsed")  # noqa: B009
        return parsed.get(key_id)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self.keys))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": BUNDLE_VERSION,
            "keys": [
                {"key_id": k, "algorithm": "ed25519", "public_key": b64e(self.keys[k])}
                for k in sorted(self.keys)
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> TrustBundle:
        if not isinstance(data, dict) or data.get("version") != BUNDLE_VERSION:
            raise ValueError(f"not a version-{BUNDLE_VERSION} trust bundle")
        entries = data.get("keys")
        if not isinstance(entries, list) or not entries:
            raise ValueError("'keys' must be a non-empty list")
        keys: dict[str, bytes] = {}
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or entry.get("algorithm") != "ed25519":
                raise ValueError(f"keys[{i}] must be an ed25519 key entry")
            raw = b64d(str(entry.get("public_key", "")))
            if len(raw) != 32:
                raise ValueError(f"keys[{i}].public_key must be 32 bytes")
            if entry.get("key_id") != key_id_for(raw):
                raise ValueError(f"keys[{i}].key_id does not match its public key")
            keys[key_id_for(raw)] = raw
        return cls(keys)

    @classmethod
    def parse(cls, text: str | bytes, *, source: str | Path = BUNDLE_KEY) -> TrustBundle:
        """Parse a bundle; InvalidInput naming ``source`` when it is corrupt."""
        try:
            # UTF-8 as RFC 8259 says; json.loads would guess UTF-16 from a stray NUL byte.
            data = json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            # RecursionError: JSON nested deeper than Python recurses is not a bundle either.
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise InvalidInput(f"corrupt trust bundle: {reason}", file=source) from None
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise InvalidInput(f"corrupt trust bundle: {exc}", file=source) from None

    @classmethod
    def merge(cls, bundles: Iterable[TrustBundle]) -> TrustBundle:
        keys: dict[str, bytes] = {}
        for b in bundles:
            keys.update(b.keys)
        return cls(keys)


def encode(payload: bytes, signature: bytes) -> str:
    return f"{TOKEN_PREFIX}.{b64e(payload)}.{b64e(signature)}"


def decode(token: str | bytes) -> tuple[bytes, bytes, CapabilityCertificate]:
    """Split and parse a token without checking its signature."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise CertificateRejected("malformed", "token is not ASCII") from None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise CertificateRejected("malformed", f"token must look like {TOKEN_PREFIX}.<payload>.<sig>")
    try:
        payload, signature = b64d(parts[1]), b64d(parts[2])
        cert = CapabilityCertificate.from_dict(json.loads(payload))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CertificateRejected("malformed", str(exc)) from None
    if canonical_json(cert.to_dict()) != payload:
        raise CertificateRejected("malformed", "payload is not in canonical form")
    return payload, signature, cert


def verify_signature(token: str | bytes, bundle: TrustBundle) -> CapabilityCertificate:
    """The certificate if its CA signature holds; CertificateRejected otherwise.

    Validity times are *not* checked here (see :func:`check_validity`), so a
    verified signature can be cached while expiry is still judged per request.
    """
    payload, signature, cert = decode(token)
    key = bundle.public_key(cert.key_id)
    if key is None:
        raise CertificateRejected("unknown_ca", f"key id {cert.key_id} is not in the trust bundle")
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        raise CertificateRejected("bad_signature", "signature does not verify") from None
    return cert


def check_validity(cert: CapabilityCertificate, now: float) -> None:
    if now < cert.not_before:
        raise CertificateRejected("not_yet_valid", f"valid from {cert.not_before}, now {int(now)}")
    if now >= cert.not_after:
        raise CertificateRejected("expired", f"expired at {cert.not_after}, now {int(now)}")


def verify(token: str | bytes, bundle: TrustBundle, now: float) -> CapabilityCertificate:
    """Full verification: format, CA signature, validity window."""
    cert = verify_signature(token, bundle)
    check_validity(cert, now)
    return cert


def fingerprint(token: str) -> str:
    """What a witness binds to: the sha256 of the exact certificate token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()
