"""The decision pipeline: the ordered checks a request must pass.

Order (DESIGN.md): certificate → policy automaton → permit (adapter) →
witness → non-interference → high assurance. The first check that fails
is the *finding*; later checks do not run. What a finding means (reject,
log only, override) is the enforcement mode's business
(:mod:`pfdrill.fabric.enforcement`), so this module never allows or rejects.

Each check is an async function found through :data:`CHECKS`, keyed by
:class:`Check` (whose values are ``metrics.REJECT_REASONS``). Checks report
what they saw as :class:`Note` values; the watcher turns notes into metrics,
so the pipeline itself does no I/O beyond the injected permit source.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from pfdrill.fabric import certs, witness
from pfdrill.fabric.dfa import Dfa
from pfdrill.fabric.labels import ni_violation
from pfdrill.fabric.permit import AdapterFailure, PermitSource
from pfdrill.fabric.policy import FailureMode, PolicyConfig
from pfdrill.fabric.request import DecideRequest
from pfdrill.model import metrics


class Check(enum.Enum):
    CERTIFICATE = "certificate"
    DFA = "dfa"
    PERMIT = "permit"
    WITNESS = "witness"
    NI = "ni"
    HIGH_ASSURANCE = "high_assurance"


assert {c.value for c in Check} <= set(metrics.REJECT_REASONS)


class Note(enum.Enum):
    CERT_CHECKED = "cert_checked"
    CERT_VERIFIED = "cert_verified"
    WITNESS_CHECKED = "witness_checked"
    WITNESS_FAILED = "witness_failed"
    NI_REJECT = "ni_reject"
    HA_VIOLATION = "ha_violation"
    FAIL_OPEN = "fail_open"


@dataclasses.dataclass(frozen=True)
class Finding:
    """Why a request breaks policy: the check, the rule, and the grep words for its log line."""

    check: Check
    rule: str
    tags: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"check": self.check.value, "rule": self.rule, "tags": list(self.tags)}


class CertCache:
    """LRU of certificate tokens whose CA signature verified (``cache_size``)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, certs.CapabilityCertificate] = OrderedDict()

    def get(self, token: str) -> certs.CapabilityCertificate | None:
        cert = self._items.get(token)
        if cert is not None:
            self._items.move_to_end(token)
        return cert

    def put(self, token: str, cert: certs.CapabilityCertificate) -> None:
        if self.size <= 0:
            return
        self._items[token] = cert
        self._items.move_to_end(token)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def resize(self, size: int) -> None:
        self.size = size
        while len(self._items) > max(size, 0):
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclasses.dataclass
class Context:
    """Everything one evaluation needs, and what it found out on the way."""

    config: PolicyConfig
    dfa: Dfa
    bundle: certs.TrustBundle
    permits: PermitSource
    now: float
    cert_cache: CertCache | None = None
    cert: certs.CapabilityCertificate | None = None
    notes: list[Note] = dataclasses.field(default_factory=list)
    adapter_errors: list[str] = dataclasses.field(default_factory=list)


CheckFn = Callable[[DecideRequest, Context], Awaitable[Finding | None]]


async def check_certificate(req: DecideRequest, ctx: Context) -> Finding | None:
    if not req.certificate:
        # No certificate to check: an unauthenticated request, not a verification failure
        # (certs_total counts certificates presented, so the >1% SEV-1 ratio means what it says).
        return Finding(Check.CERTIFICATE, "certificate:missing", ("UNAUTHORIZED", "AUTH_FAILED"))
    ctx.notes.append(Note.CERT_CHECKED)
    try:
        cert = ctx.cert_cache.get(req.certificate) if ctx.cert_cache else None
        if cert is None:
            cert = certs.verify_signature(req.certificate, ctx.bundle)
            if ctx.cert_cache is not None:
                ctx.cert_cache.put(req.certificate, cert)
        certs.check_validity(cert, ctx.now)
    except certs.CertificateRejected as exc:
        return Finding(Check.CERTIFICATE, f"certificate:{exc.reason}", ("AUTH_FAILED",))
    if cert.principal != req.principal:
        return Finding(Check.CERTIFICATE, "certificate:principal_mismatch",
                       ("UNAUTHORIZED", "AUTH_FAILED"))
    ctx.cert = cert
    ctx.notes.append(Note.CERT_VERIFIED)
    return None


async def check_dfa(req: DecideRequest, ctx: Context) -> Finding | None:
    rule = ctx.dfa.violation(req.trace, req.action)
    return None if rule is None else Finding(Check.DFA, rule, ())


async def check_permit(req: DecideRequest, ctx: Context) -> Finding | None:
    assert ctx.cert is not None
    if not ctx.cert.allows(req.action):
        return Finding(Check.PERMIT, f"certificate-scope:{req.action}", ("FORBIDDEN",))
    try:
        decision = await ctx.permits.decide(
            req.principal, req.action, ctx.config.adapter_timeout_ms / 1000)
    except AdapterFailure as exc:
        ctx.adapter_errors.append(exc.kind)
        if ctx.config.adapter_failure_mode is FailureMode.FAIL_OPEN:
            ctx.notes.append(Note.FAIL_OPEN)
            return None
        return Finding(Check.PERMIT, f"adapter:{exc.kind} fail_closed", ("ERROR",))
    if not decision.allow:
        return Finding(Check.PERMIT, f"permit:{decision.rule}", ("FORBIDDEN",))
    return None


async def check_witness(req: DecideRequest, ctx: Context) -> Finding | None:
    if req.witness is None:
        return None  # absence is high assurance's business
    assert ctx.cert is not None and req.certificate is not None
    ctx.notes.append(Note.WITNESS_CHECKED)
    msg = witness.message(req.principal, req.action, req.trace, req.labels, req.certificate)
    if witness.valid(req.witness, msg, ctx.cert.subject_key):
        return None
    ctx.notes.append(Note.WITNESS_FAILED)
    if ctx.config.high_assurance_mode:
        ctx.notes.append(Note.HA_VIOLATION)
    return Finding(Check.WITNESS, "witness:invalid", ("AUTH_FAILED",))


async def check_ni(req: DecideRequest, ctx: Context) -> Finding | None:
    assert ctx.cert is not None
    rule = ni_violation(req.flow, ctx.cert.clearance)
    if rule is None:
        return None
    ctx.notes.append(Note.NI_REJECT)
    return Finding(Check.NI, rule, ())


async def check_high_assurance(req: DecideRequest, ctx: Context) -> Finding | None:
    if ctx.config.high_assurance_mode and req.witness is None:
        ctx.notes.append(Note.HA_VIOLATION)
        return Finding(Check.HIGH_ASSURANCE, "high_assurance:witness_required", ())
    return None


CHECKS: dict[Check, CheckFn] = {
    Check.CERTIFICATE: check_certificate,
    Check.DFA: check_dfa,
    Check.PERMIT: check_permit,
    Check.WITNESS: check_witness,
    Check.NI: check_ni,
    Check.HIGH_ASSURANCE: check_high_assurance,
}
ORDER: tuple[Check, ...] = tuple(Check)  # enum order is the pipeline order


async def evaluate(req: DecideRequest, ctx: Context) -> Finding | None:
    """The first finding in pipeline order, or None when every check passes."""
    for check in ORDER:
        finding = await CHECKS[check](req, ctx)
        if finding is not None:
            return finding
    return None
