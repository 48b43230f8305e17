"""The fault catalog: one driver per :class:`FaultKind`."""

from __future__ import annotations

from collections.abc import Mapping

from pfdrill.errors import InvalidInput
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
from pfdrill.model.drill import ParamValue

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


# Parameters a drill fills in from the baseline it has just published, so that a fault aims
# at a multiple of the very steady state the relative alert rules divide by, not at its own
# shorter (and at a few rejects/s, noisier) measurement: parameter -> (gauge, unit factor).
BASELINE_PARAMS: dict[str, tuple[str, float]] = {
    "baseline_rate": ("reject_rate", 1.0),
    "baseline_latency_ms": ("latency_mean_seconds", 1000.0),
}


def baseline_params(name: str, baseline: Mapping[str, float]) -> dict[str, ParamValue]:
    """The :data:`BASELINE_PARAMS` fault ``name`` accepts, valued from ``baseline`` gauges."""
    try:
        names = set(driver(name).spec.names())
    except InvalidInput:
        return {}
    return {param: baseline[gauge] * factor for param, (gauge, factor) in BASELINE_PARAMS.items()
            if param in names and gauge in baseline}
