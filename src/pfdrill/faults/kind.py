"""The names of the faults in the catalog: one enum, the key of the registry."""

from __future__ import annotations

import enum

from pfdrill.errors import InvalidInput


class FaultKind(enum.Enum):
    ADAPTER_FAILURE = "adapter_failure"
    CERTIFICATE_CORRUPTION = "certificate_corruption"
    HIGH_REJECT_RATE = "high_reject_rate"
    DFA_TAMPERING = "dfa_tampering"
    ENFORCEMENT_DISABLED = "enforcement_disabled"
    WITNESS_FAILURES = "witness_failures"
    NI_REJECT_BURST = "ni_reject_burst"
    SIDECAR_POD_LOSS = "sidecar_pod_loss"
    PERFORMANCE_DEGRADATION = "performance_degradation"
    BREAK_GLASS_LEFT_ON = "break_glass_left_on"

    @classmethod
    def parse(cls, name: str) -> FaultKind:
        """The fault called ``name`` (``-`` and ``_`` alike); InvalidInput listing the catalog."""
        wanted = name.strip().lower().replace("-", "_")
        for member in cls:
            if member.value == wanted:
                return member
        known = ", ".join(m.value for m in cls)
        raise InvalidInput(f"unknown fault {name!r} (known: {known})")
