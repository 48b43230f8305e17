"""The requests each traffic kind sends, built ahead of time (pure: no locust, no network).

Identities are issued once per run by the cluster's CA (plus a throw-away
foreign CA for "unauthenticated" traffic) and written to the run directory
for the locust process. Every kind has a few *variants*; a variant is a
ready-to-send JSON body, so generating load costs no signing at request time.
The variants match the reference policy (``deploy/fabric/dfa.json`` and
``adapter-rules.yaml``): compliant ones are allowed, the others each break
exactly one check (the variant name says which).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.fabric import witness
from pfdrill.fabric.authority import Authority, Identity
from pfdrill.fabric.labels import Label
from pfdrill.load.plan import TrafficKind

ROLES: dict[str, tuple[tuple[str, ...], Label]] = {
    # role (= principal name): certificate actions, clearance
    "svc-frontend": (("login", "read", "write", "review", "logout"), Label.INTERNAL),
    "svc-reporting": (("login", "read", "review", "export", "logout"), Label.CONFIDENTIAL),
    "svc-intern": (("login", "read", "write", "review", "export", "logout"), Label.INTERNAL),
}


@dataclasses.dataclass(frozen=True)
class IdentitySet:
    """Valid identities per principal, plus deliberately unusable ones."""

    valid: dict[str, Identity]
    foreign: Identity  # signed by a CA the fabric does not trust
    expired: Identity

    @classmethod
    def issue(cls, authority: Authority, now: float | None = None) -> IdentitySet:
        t = time.time() if now is None else now
        valid = {p: authority.issue(p, actions, clearance, now=t) for p, (actions, clearance) in ROLES.items()}
        foreign = Authority.generate().issue("svc-frontend", ROLES["svc-frontend"][0], now=t)
        expired = authority.issue("svc-frontend", ROLES["svc-frontend"][0],
                                  not_before=int(t) - 7200, not_after=int(t) - 3600)
        return cls(valid, foreign, expired)

    def to_dict(self) -> dict[str, Any]:
        return {"valid": {k: v.to_dict() for k, v in self.valid.items()},
                "foreign": self.foreign.to_dict(), "expired": self.expired.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IdentitySet:
        return cls({k: Identity.from_dict(v) for k, v in data["valid"].items()},
                   Identity.from_dict(data["foreign"]), Identity.from_dict(data["expired"]))

    def save(self, path: Path) -> None:
        # Subject keys of test identities, not the CA key; still nobody else's business.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh)

    @classmethod
    def load(cls, path: Path) -> IdentitySet:
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"cannot read identities: {exc}", file=path) from None


@dataclasses.dataclass(frozen=True)
class Variant:
    kind: TrafficKind
    name: str  # e.g. "violating:dfa"
    body: str  # JSON
    expect_allow: bool  # under enforce mode


def _body(ident: Identity | None, principal: str, action: str, trace: list[str],
          src: Label, dst: Label, *, sign: bool = True, tamper: bool = False) -> str:
    labels = {"source": src.value, "destination": dst.value}
    data: dict[str, Any] = {"principal": principal, "action": action, "trace": trace, "labels": labels}
    if ident is not None:
        data["certificate"] = ident.certificate
        if sign:
            # A tampered witness is a real signature over a different request.
            signed_action = action + "-tampered" if tamper else action
            msg = witness.message(principal, signed_action, trace, labels, ident.certificate)
            data["witness"] = witness.sign(ident.signing_key(), msg)
    return json.dumps(data, separators=(",", ":"))


def variants(ids: IdentitySet) -> dict[TrafficKind, list[Variant]]:
    fe, rep, intern = ids.valid["svc-frontend"], ids.valid["svc-reporting"], ids.valid["svc-intern"]
    i, c = Label.INTERNAL, Label.CONFIDENTIAL
    K = TrafficKind
    out = [
        Variant(K.COMPLIANT, "compliant:read", _body(fe, fe.principal, "read", ["login"], i, i), True),
        Variant(K.COMPLIANT, "compliant:review",
                _body(fe, fe.principal, "review", ["login", "write"], i, c), True),
        Variant(K.COMPLIANT, "compliant:export",
                _body(rep, rep.principal, "export", ["login", "review"], c, c), True),
        Variant(K.VIOLATING, "violating:dfa", _body(fe, fe.principal, "read", [], i, i), False),
        Variant(K.VIOLATING, "violating:permit",
                _body(intern, intern.principal, "export", ["login", "review"], i, i), False),
        Variant(K.VIOLATING, "violating:ni",
                _body(rep, rep.principal, "read", ["login"], c, Label.PUBLIC), False),
        Variant(K.UNAUTHENTICATED, "unauthenticated:missing",
                _body(None, fe.principal, "read", ["login"], i, i), False),
        Variant(K.UNAUTHENTICATED, "unauthenticated:foreign_ca",
                _body(ids.foreign, fe.principal, "read", ["login"], i, i), False),
        Variant(K.UNAUTHENTICATED, "unauthenticated:expired",
                _body(ids.expired, fe.principal, "read", ["login"], i, i), False),
        Variant(K.TAMPERED_WITNESS, "tampered_witness:read",
                _body(fe, fe.principal, "read", ["login"], i, i, tamper=True), False),
        Variant(K.TAMPERED_WITNESS, "tampered_witness:export",
                _body(rep, rep.principal, "export", ["login", "review"], c, c, tamper=True), False),
    ]
    grouped: dict[TrafficKind, list[Variant]] = {k: [] for k in TrafficKind}
    for v in out:
        grouped[v.kind].append(v)
    return grouped
