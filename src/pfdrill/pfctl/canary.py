"""Canary decisions: a handful of real requests whose right answer is known for every mode.

The requests are the load generator's own variants (:mod:`pfdrill.load.traffic`:
compliant ones, and ones that each break exactly one check), signed by the
cluster's CA. What the watcher must answer follows from the enforcement mode
in force (:mod:`pfdrill.fabric.enforcement`): in ``enforce`` a violating
request is rejected, in ``monitor``/``shadow``/``break_glass`` it is allowed
and logged, in ``disabled`` nothing is decided. Non-disruptive: a few
requests, no configuration touched.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

import httpx

from pfdrill.errors import ServiceUnavailable
from pfdrill.fabric import enforcement
from pfdrill.fabric.authority import Authority
from pfdrill.fabric.decision import Check, Finding
from pfdrill.fabric.policy import EnforcementMode
from pfdrill.load.plan import TrafficKind
from pfdrill.load.traffic import IdentitySet, Variant, variants

CANARY_NAMES = ("compliant:read", "compliant:export", "violating:dfa", "violating:permit",
                "unauthenticated:foreign_ca")


@dataclasses.dataclass(frozen=True)
class CanaryResult:
    name: str
    expected_allow: bool
    expected_outcome: str
    allow: bool | None
    outcome: str
    status: int | None
    detail: str = ""
    retried: str = ""  # a transport error the retry got past

    @property
    def ok(self) -> bool:
        return self.allow == self.expected_allow and self.outcome == self.expected_outcome

    def to_dict(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "ok": self.ok}


def expectation(variant: Variant, mode: EnforcementMode) -> tuple[bool, str]:
    finding = None if variant.expect_allow else Finding(Check.PERMIT, "canary", ())
    verdict = enforcement.MODES[mode].verdict(finding)
    return verdict.allow, verdict.outcome


def canaries(authority: Authority, names: Iterable[str] = CANARY_NAMES) -> list[Variant]:
    by_name = {v.name: v for group in variants(IdentitySet.issue(authority)).values() for v in group}
    return [by_name[n] for n in names if n in by_name]


def compliant(authority: Authority) -> list[Variant]:
    return variants(IdentitySet.issue(authority))[TrafficKind.COMPLIANT]


def send(url: str, variant: Variant, mode: EnforcementMode, client: httpx.Client) -> CanaryResult:
    """One decision. A connection dropped before any answer is retried once, as any client
    would (a pod going away mid-roll); an answer, right or wrong, is never retried."""
    want_allow, want_outcome = expectation(variant, mode)
    retried = ""
    for attempt in (1, 2):
        try:
            response = client.post(f"{url}/v1/decide", content=variant.body,
                                   headers={"Content-Type": "application/json"})
            answer = response.json()
            break
        except httpx.TransportError as exc:
            if attempt == 2:
                return CanaryResult(variant.name, want_allow, want_outcome, None, "error", None,
                                    f"{exc} (after a retry)")
            retried = f"retried after: {exc}"
        except (httpx.HTTPError, ValueError) as exc:
            return CanaryResult(variant.name, want_allow, want_outcome, None, "error", None,
                                str(exc))
    return CanaryResult(variant.name, want_allow, want_outcome, answer.get("allow"),
                        str(answer.get("outcome", "")), response.status_code,
                        json.dumps({k: answer.get(k) for k in ("reason", "rule")}), retried)


def run(url: str, variants_: Iterable[Variant], mode: EnforcementMode,
        timeout_s: float = 5.0) -> list[CanaryResult]:
    try:
        with httpx.Client(timeout=timeout_s, trust_env=False) as client:
            return [send(url, v, mode, client) for v in variants_]
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"sidecar-watcher at {url}: {exc}") from exc
