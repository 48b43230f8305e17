"""The fault catalog: one driver per :class:`FaultKind`."""

from __future__ import annotations

from pfdrill.faults import (
    adapter,
    breakglass,
    certificate,
    degradation,
    dfa,
    drift,
    noninterference,
    podloss,
    reject,
    witness,
)
from pfdrill.faults.base import Driver
from pfdrill.faults.kind import FaultKind

DRIVERS: dict[FaultKind, Driver] = {
    FaultKind.ADAPTER_FAILURE: adapter.AdapterFailure(),
    FaultKind.CERTIFICATE_CORRUPTION: certificate.CertificateCorruption(),
    FaultKind.HIGH_REJECT_RATE: reject.HighRejectRate(),
    FaultKind.DFA_TAMPERING: dfa.DfaTampering(),
    FaultKind.ENFORCEMENT_DISABLED: drift.EnforcementDisabled(),
    FaultKind.WITNESS_FAILURES: witness.WitnessFailures(),
    FaultKind.NI_REJECT_BURST: noninterference.NiRejectBurst(),
    FaultKind.SIDECAR_POD_LOSS: podloss.SidecarPodLoss(),
    FaultKind.PERFORMANCE_DEGRADATION: degradation.PerformanceDegradation(),
    FaultKind.BREAK_GLASS_LEFT_ON: breakglass.BreakGlassLeftOn(),
}


def driver(name: str | FaultKind) -> Driver:
    kind = name if isinstance(name, FaultKind) else FaultKind.parse(name)
    return DRIVERS[kind]
