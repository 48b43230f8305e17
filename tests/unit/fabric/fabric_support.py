"""Builders shared by the fabric's unit tests (imported by name: tests are not a package)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from pfdrill.fabric import dfa as dfa_mod
from pfdrill.fabric import witness
from pfdrill.fabric.authority import Identity
from pfdrill.fabric.permit import AdapterFailure
from pfdrill.fabric.rules import Decision, RuleSet

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy" / "fabric"
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def dfa_files(text: bytes | None = None) -> dict[str, bytes]:
    raw = (DEPLOY / "dfa.json").read_bytes() if text is None else text
    return {dfa_mod.DFA_KEY: raw, dfa_mod.SHA_KEY: dfa_mod.digest_line(raw).encode()}


def reference_dfa() -> dfa_mod.Dfa:
    return dfa_mod.load_artifact(dfa_files())


def reference_rules() -> RuleSet:
    return RuleSet.parse((DEPLOY / "adapter-rules.yaml").read_text())


class FakePermits:
    """A permit source answering from rules, or failing with a given kind."""

    def __init__(self, rules: RuleSet | None = None, fail: str | None = None) -> None:
        self.rules = rules or reference_rules()
        self.fail = fail
        self.calls: list[tuple[str, str]] = []

    async def decide(self, principal: str, action: str, timeout_s: float) -> Decision:
        self.calls.append((principal, action))
        if self.fail:
            raise AdapterFailure(self.fail, "fake failure")
        return self.rules.decide(principal, action)


def body(ident: Identity | None, action: str = "read", trace: list[str] | None = None,
         src: str = "internal", dst: str = "internal", *, sign: bool = True,
         principal: str | None = None, witness_text: str | None = None) -> bytes:
    trace = ["login"] if trace is None else trace
    labels = {"source": src, "destination": dst}
    who = principal or (ident.principal if ident else "svc-frontend")
    data: dict[str, Any] = {"principal": who, "action": action, "trace": trace, "labels": labels}
    if ident is not None:
        data["certificate"] = ident.certificate
        if witness_text is not None:
            data["witness"] = witness_text
        elif sign:
            msg = witness.message(who, action, trace, labels, ident.certificate)
            data["witness"] = witness.sign(ident.signing_key(), msg)
    return json.dumps(data).encode()
