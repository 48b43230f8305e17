from __future__ import annotations

import time

import pytest
from fabric_support import FakePermits, body, reference_dfa, run

from pfdrill.fabric import decision
from pfdrill.fabric.authority import Authority, Identity
from pfdrill.fabric.decision import Check, Note
from pfdrill.fabric.labels import Label
from pfdrill.fabric.policy import FailureMode, PolicyConfig
from pfdrill.fabric.request import DecideRequest, MalformedRequest


def evaluate(authority: Authority, raw: bytes, permits: FakePermits | None = None,
             **config: object) -> tuple[decision.Finding | None, decision.Context]:
    ctx = decision.Context(config=PolicyConfig(**config), dfa=reference_dfa(),  # type: ignore[arg-type]
                           bundle=authority.bundle(), permits=permits or FakePermits(),
                           now=time.time(), cert_cache=decision.CertCache(8))
    return run(decision.evaluate(DecideRequest.parse(raw), ctx)), ctx


def test_compliant_request_passes_every_check(authority: Authority, frontend: Identity) -> None:
    finding, ctx = evaluate(authority, body(frontend))
    assert finding is None
    assert ctx.notes == [Note.CERT_CHECKED, Note.CERT_VERIFIED, Note.WITNESS_CHECKED]


@pytest.mark.parametrize("kwargs, check, rule", [
    ({"ident": None}, Check.CERTIFICATE, "certificate:missing"),
    ({"principal": "svc-reporting"}, Check.CERTIFICATE, "certificate:principal_mismatch"),
    ({"trace": []}, Check.DFA, "dfa:session-lifecycle state=anonymous event=read"),
    ({"action": "export", "trace": ["login", "review"]}, Check.PERMIT, "certificate-scope:export"),
    ({"witness_text": "AAAA"}, Check.WITNESS, "witness:invalid"),
    ({"src": "internal", "dst": "public"}, Check.NI, "ni:flow internal->public"),
    ({"src": "secret", "dst": "secret"}, Check.NI, "ni:clearance internal<secret"),
])
def test_each_check_finds_its_violation(authority: Authority, frontend: Identity,
                                        kwargs: dict[str, object], check: Check, rule: str) -> None:
    ident = kwargs.pop("ident", frontend)
    finding, _ = evaluate(authority, body(ident, **kwargs))  # type: ignore[arg-type]
    assert finding is not None and (finding.check, finding.rule) == (check, rule)


def test_adapter_deny_is_a_permit_finding(authority: Authority) -> None:
    intern = authority.issue("svc-intern", ["login", "review", "export"], Label.INTERNAL)
    finding, _ = evaluate(authority, body(intern, "export", ["login", "review"]))
    assert finding is not None and finding.check is Check.PERMIT
    assert finding.rule == "permit:interns-no-export" and "FORBIDDEN" in finding.tags


def test_high_assurance_requires_a_witness(authority: Authority, frontend: Identity) -> None:
    unsigned = body(frontend, sign=False)
    assert evaluate(authority, unsigned)[0] is None
    finding, ctx = evaluate(authority, unsigned, high_assurance_mode=True)
    assert finding is not None and finding.check is Check.HIGH_ASSURANCE
    assert Note.HA_VIOLATION in ctx.notes
    _, ctx = evaluate(authority, body(frontend, witness_text="AAAA"), high_assurance_mode=True)
    assert Note.HA_VIOLATION in ctx.notes and Note.WITNESS_FAILED in ctx.notes


def test_first_failing_check_wins_and_later_checks_do_not_run(authority: Authority, frontend: Identity) -> None:
    permits = FakePermits()
    finding, ctx = evaluate(authority, body(frontend, trace=[], src="secret", dst="public"), permits)
    assert finding is not None and finding.check is Check.DFA
    assert permits.calls == [] and Note.NI_REJECT not in ctx.notes


@pytest.mark.parametrize("kind", ["timeout", "connect", "http_status", "bad_response"])
def test_adapter_failure_modes(authority: Authority, frontend: Identity, kind: str) -> None:
    closed, ctx = evaluate(authority, body(frontend), FakePermits(fail=kind))
    assert closed is not None and closed.rule == f"adapter:{kind} fail_closed" and ctx.adapter_errors == [kind]
    opened, ctx = evaluate(authority, body(frontend), FakePermits(fail=kind),
                           adapter_failure_mode=FailureMode.FAIL_OPEN)
    assert opened is None and Note.FAIL_OPEN in ctx.notes and ctx.adapter_errors == [kind]


def test_certificate_cache_still_checks_expiry(authority: Authority) -> None:
    now = int(time.time())
    short = authority.issue("svc-frontend", ["read", "login"], not_before=now - 10, not_after=now + 1)
    cache = decision.CertCache(4)
    req = DecideRequest.parse(body(short))

    def ctx_at(t: float) -> decision.Context:
        return decision.Context(config=PolicyConfig(), dfa=reference_dfa(), bundle=authority.bundle(),
                                permits=FakePermits(), now=t, cert_cache=cache)

    assert run(decision.evaluate(req, ctx_at(now))) is None
    assert len(cache) == 1
    late = run(decision.evaluate(req, ctx_at(now + 5)))
    assert late is not None and late.rule == "certificate:expired"


@pytest.mark.parametrize("raw, needle", [
    (b"", "not JSON"), (b"[]", "JSON object"), (b'{"action": "read"}', "principal"),
    (b'{"principal": "a", "action": "read", "labels": {"source": "x", "destination": "public"}}', "labels"),
    (b'{"principal": "a", "action": "read", "trace": "login", "labels": {}}', "trace"),
    (b'{"principal": "a", "action": "read", "labels": {"source": "public", "destination": "public"}, "certificate": 7}', "certificate"),
])
def test_malformed_requests(raw: bytes, needle: str) -> None:
    with pytest.raises(MalformedRequest, match=needle):
        DecideRequest.parse(raw)
