"""The fabric contract's names: what every part of pfdrill calls the system under test.

One place for the objects a drill reads and changes (DESIGN.md, "The reference
fabric contract"; ``deploy/RUNTIME-CONTRACT.md``), the files the kwok process
runtime publishes for its readers, and the variables a runbook is given. Faults,
snapshots, the fakes, pfctl, the contract check and the runtime use these names
instead of their own literals, so a renamed object is renamed once.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pfdrill.model.codec import Record

NAMESPACE = "production"


@dataclasses.dataclass(frozen=True)
class FabricNames(Record):
    """The fabric's objects in the drill namespace."""

    policy_config: str = "policy-config"
    dfa_artifact: str = "dfa-artifact"
    certs_secret: str = "fabric-certs"
    chaos_config: str = "fabric-chaos"
    watcher: str = "sidecar-watcher"
    adapter: str = "policy-adapter"
    adapter_config: str = "policy-adapter-config"
    declass_config: str = "policy-declass"  # made by `pfctl policy declass` (a runbook step)
    watcher_selector: str = "app=sidecar-watcher"
    adapter_selector: str = "app=policy-adapter"

    @property
    def configmaps(self) -> tuple[str, ...]:
        """Every ConfigMap of the fabric (a drill's snapshot restores all of them)."""
        return (self.policy_config, self.dfa_artifact, self.adapter_config, self.chaos_config)

    @property
    def runbook_configmaps(self) -> tuple[str, ...]:
        """ConfigMaps the runbook's tools create where none was: a snapshot records them
        absent, and a restore takes them away again."""
        return (self.declass_config,)

    @property
    def deployments(self) -> tuple[str, ...]:
        return (self.watcher, self.adapter)


FABRIC = FabricNames()


@dataclasses.dataclass(frozen=True)
class RuntimeFiles:
    """What the kwok process runtime publishes in its directory, for its readers.

    ``state.json`` says the runtime is up (and its pid); ``services.json`` maps each
    Service to the local address that stands for it (pfctl, chaos targets and
    runbooks reach the watcher through it); ``targets.json`` lists the pods' metrics
    endpoints (Prometheus file service discovery).
    """

    dir: Path

    @property
    def state(self) -> Path:
        return self.dir / "state.json"

    @property
    def services(self) -> Path:
        return self.dir / "services.json"

    @property
    def targets(self) -> Path:
        return self.dir / "targets.json"

    def running(self) -> bool:
        return self.state.is_file()


# Set by the process runtime in every pod it runs: its directory (whose state.json maps each
# pod's ports to local ones), the stand-in for a pod network its pods' IPs do not have.
POD_NETWORK_ENV = "PFDRILL_POD_NETWORK"

# The runbook's variables: environment name -> DrillVars field (the seed uses all of them).
RUNBOOK_VARIABLES: dict[str, str] = {
    name.upper(): name for name in (
        "severity", "incident_id", "duration", "impact", "root_cause", "actions_taken",
        "lessons_learned", "follow_up_actions")
}
