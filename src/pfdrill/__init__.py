"""pfdrill: chaos and incident drills for the Provability Fabric on Kubernetes.

The public API is what ``__all__`` lists; everything else is internal.
"""

from __future__ import annotations

from pfdrill._version import __version__
from pfdrill.errors import (
    ClusterError,
    DrillFailed,
    EnvironmentProblem,
    FaultError,
    InvalidInput,
    PfdrillError,
    ProbeFailure,
    SafetyRefused,
    ToolchainError,
)
from pfdrill.model.severity import Severity

__all__ = [
    "ClusterError",
    "DrillFailed",
    "EnvironmentProblem",
    "FaultError",
    "InvalidInput",
    "PfdrillError",
    "ProbeFailure",
    "SafetyRefused",
    "Severity",
    "ToolchainError",
    "__version__",
]
