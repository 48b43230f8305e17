"""The one exception tree of pfdrill.

Every error pfdrill raises on purpose derives from :class:`PfdrillError`; the
CLI catches it in one place and maps it to an exit code::

    PfdrillError                      exit 1 unless a subclass says otherwise
    ├── InvalidInput                  exit 2  bad file, flag or parameter (file, line, text)
    ├── EnvironmentProblem            exit 3  the world around pfdrill is not usable
    │   ├── MissingExtra                      an optional dependency is not installed
    │   ├── ToolchainError                    a cluster binary cannot be built or found
    │   ├── ClusterError                      the Kubernetes API failed (API exception as __cause__)
    │   │   └── ObjectNotFound                    the named object does not exist
    │   ├── ServiceUnavailable                Prometheus, Alertmanager, the sink, ... unreachable
    │   ├── LeaseHeld                         another drill (named) holds the drill Lease
    │   └── ContractGap                       the fabric lacks what a drill needs (fabric check)
    ├── SafetyRefused                 exit 4  context/namespace not allowed
    ├── ProbeFailure                  exit 1  a probe could not be evaluated or did not hold
    ├── FaultError                    exit 1  injecting or rolling back a fault failed
    │   ├── TransientFaultError               worth retrying (conflict, timeout)
    │   └── PermanentFaultError               retrying will not help
    └── DrillFailed                   exit 1  a drill ran and its verdict is "failed"

Nothing below the CLI prints or exits; it raises one of these.
"""

from __future__ import annotations

from pathlib import Path


class PfdrillError(Exception):
    """Root of every deliberate pfdrill error."""

    exit_code = 1


class InvalidInput(PfdrillError):
    """Bad user input: a file, a flag, a parameter.

    Carries where the problem is, so the one-line message can point at it:
    ``drills/weekly.yaml:12: severity 'SEV-5' is not one of SEV-1..SEV-4``.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        text: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.text = text
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
            where += ": "
        tail = f" (line: {self.text.strip()!r})" if self.text and self.text.strip() else ""
        # One line whatever the message quotes from the input (a key with a newline in it).
        message = self.message.replace("\r", "\\r").replace("\n", "\\n")
        return f"{where}{message}{tail}"


class EnvironmentProblem(PfdrillError):
    """The environment pfdrill needs is missing or broken (not the user's input)."""

    exit_code = 3


class MissingExtra(EnvironmentProblem):
    """A module of one of pfdrill's extras is not installed (see :mod:`pfdrill.extras`)."""


class ToolchainError(EnvironmentProblem):
    """A cluster binary could not be built, found or verified."""


class ClusterError(EnvironmentProblem):
    """A Kubernetes API call failed; the API exception is chained as ``__cause__``."""


class ObjectNotFound(ClusterError):
    """A named Kubernetes object does not exist."""


class ServiceUnavailable(EnvironmentProblem):
    """A service pfdrill talks to (Prometheus, Alertmanager, the sink) is unreachable."""


class LeaseHeld(EnvironmentProblem):
    """Another run holds the drill Lease on the namespace; nothing was changed.

    An environment problem (exit 3), not a refusal of the target: the same
    invocation succeeds once the holder is done (``--wait`` waits for that).
    """

    def __init__(self, message: str, *, holder: str) -> None:
        self.holder = holder
        super().__init__(message)


class ContractGap(EnvironmentProblem):
    """The fabric under test lacks something a drill needs; that drill is refused in
    preflight (nothing injected) and the suite carries on with the others."""


class SafetyRefused(PfdrillError):
    """A safety rule refused the action before anything changed."""

    exit_code = 4


class ProbeFailure(PfdrillError):
    """A probe could not be evaluated, or its tolerance did not hold."""


class FaultError(PfdrillError):
    """Injecting or rolling back a fault failed."""


class TransientFaultError(FaultError):
    """A fault step failed in a way worth retrying (conflict, timeout)."""


class PermanentFaultError(FaultError):
    """A fault step failed and retrying will not help."""


class DrillFailed(PfdrillError):
    """A drill ran to its end and its verdict is 'failed'."""
