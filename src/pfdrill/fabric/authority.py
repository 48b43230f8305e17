"""The per-cluster certificate authority that issues capability certificates.

pfdrill keeps one Ed25519 CA key per cluster context under its state dir
(``<state>/fabric-ca/<context>/ca.key``, mode 0600). Only the public half
ever reaches the cluster, as the trust bundle in Secret ``fabric-certs``;
the private key is never written into a manifest, a report or the repository.
The traffic generator and ``pfctl certs`` issue identities with it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pfdrill.errors import InvalidInput
from pfdrill.fabric import certs
from pfdrill.fabric.labels import Label
from pfdrill.settings.paths import Paths

CA_FILE = "ca.key"
DEFAULT_VALIDITY_S = 30 * 24 * 3600


@dataclasses.dataclass(frozen=True)
class Identity:
    """A principal's certificate and the private key it signs witnesses with."""

    principal: str
    certificate: str
    private_key: str  # base64url of the raw Ed25519 private key

    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(certs.b64d(self.private_key))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Identity:
        return cls(str(data["principal"]), str(data["certificate"]), str(data["private_key"]))


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Authority:
    """An Ed25519 CA. Build it with :meth:`generate`, :meth:`load` or :meth:`for_context`."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_raw = _raw_public(key)
        self.key_id = certs.key_id_for(self.public_raw)

    @classmethod
    def generate(cls) -> Authority:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> Authority:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise InvalidInput(f"cannot read the CA key: {exc}", file=path) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidInput("the CA key is not an Ed25519 key", file=path)
        return cls(key)

    @classmethod
    def load_or_create(cls, directory: Path) -> Authority:
        path = directory / CA_FILE
        if path.exists():
            return cls.load(path)
        authority = cls.generate()
        authority.save(path)
        return authority

    @classmethod
    def for_context(cls, context: str, paths: Paths | None = None) -> Authority:
        """The CA of one cluster context, created on first use."""
        return cls.load_or_create(ca_dir(context, paths))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Created 0600 from the start: never world-readable, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)

    def bundle(self) -> certs.TrustBundle:
        return certs.TrustBundle({self.key_id: self.public_raw})

    def issue(
        self,
        principal: str,
        actions: Iterable[str],
        clearance: Label = Label.INTERNAL,
        *,
        not_before: int | None = None,
        not_after: int | None = None,
        now: float | None = None,
    ) -> Identity:
        """A fresh subject key pair and a certificate binding it to ``principal``."""
        if not principal:
            raise InvalidInput("a certificate needs a principal")
        t = int(time.time() if now is None else now)
        start = t - 60 if not_before is None else not_before  # tolerate small clock skew
        end = t + DEFAULT_VALIDITY_S if not_after is None else not_after
        subject = Ed25519PrivateKey.generate()
        cert = certs.CapabilityCertificate(
            principal=principal,
            actions=tuple(sorted(set(actions))),
            clearance=clearance,
            not_before=start,
            not_after=end,
            key_id=self.key_id,
            subject_key=certs.b64e(_raw_public(subject)),
            serial=secrets.token_hex(8),
        )
        payload = certs.canonical_json(cert.to_dict())
        token = certs.encode(payload, self._key.sign(payload))
        raw_private = subject.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return Identity(principal, token, certs.b64e(raw_private))


def ca_dir(context: str, paths: Paths | None = None) -> Path:
    """Where the CA of ``context`` lives; context names may hold '/' or ':' (cloud ARNs).

    ``$PFDRILL_CA_DIR`` overrides it: a scheduled drill in a pod gets the canary CA
    the fabric trusts from a mounted Secret, never a fresh one of its own.
    """
    override = os.environ.get("PFDRILL_CA_DIR")
    if override:
        return Path(override)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", context) or "_"
    return (paths or Paths.from_env()).state / "fabric-ca" / safe
