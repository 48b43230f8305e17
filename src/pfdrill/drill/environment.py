"""Everything a drill needs from the world, bundled, and the factory that builds it.

:class:`DrillEnvironment` is what :class:`~pfdrill.drill.session.DrillSession`
and :class:`~pfdrill.drill.engine.Drill` take. :mod:`pfdrill.drill.wiring`
builds the real one; :mod:`pfdrill.drill.fake` a simulated one for tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Protocol

from pfdrill.cluster.client import ClusterClient
from pfdrill.cluster.lease import LEASE_NAME
from pfdrill.drill.ports import (
    ArtifactSource,
    Classifier,
    Clock,
    Detector,
    FaultCatalog,
    IncidentSource,
    LogSource,
    MetricsSource,
    NotificationSource,
    RuleSource,
    RunbookRunner,
    StateKeeper,
    SteadyStateProbe,
)
from pfdrill.drill.snapshot import ClusterSnapshotter, SnapshotStore
from pfdrill.model.drill import DrillSpec
from pfdrill.model.sla import TimingProfile
from pfdrill.settings.config import Config

__all__ = ["LEASE_NAME", "DrillEnvironment", "EnvironmentFactory"]


@dataclasses.dataclass(frozen=True)
class DrillEnvironment:
    cluster: ClusterClient
    config: Config
    clock: Clock
    steady_state: SteadyStateProbe
    snapshotter: ClusterSnapshotter
    snapshots: SnapshotStore
    faults: FaultCatalog
    detector: Detector
    classifier: Classifier
    runbook: RunbookRunner
    notifications: NotificationSource
    logs: LogSource
    metrics: MetricsSource
    incidents: IncidentSource
    artifacts: ArtifactSource
    rules: RuleSource
    cluster_name: str = "pfdrill"
    provider: str = "kwok"
    detection: str = ""  # where detection runs, for the record header (obs.stack.Endpoints.where)
    profile: TimingProfile = TimingProfile.DRILL
    poll_interval_s: float = 1.0
    # The live signals are rates over this window: a baseline measured sooner than this
    # after a fault's rollback would still contain the fault.
    signal_window_s: float = 0.0
    lease_seconds: int = 3600
    lease_wait_s: float = 0.0  # --wait: how long preflight waits for another drill's lease
    # Values that must never appear in a report (webhook URLs, tokens); the
    # report writers redact them in addition to their generic patterns.
    secrets: tuple[str, ...] = ()
    # Extra environment for runbook commands (webhook URLs, KUBECONFIG, ...).
    runbook_env: dict[str, str] = dataclasses.field(default_factory=dict)
    keepers: tuple[StateKeeper, ...] = ()  # non-cluster state restored with the snapshot
    # What the fabric lacks that this drill needs (``fabric check``): refused in preflight.
    contract_gaps: Callable[[DrillSpec], Sequence[str]] = lambda _spec: ()
    # A suite that took the kubeconfig's current-context (no --context) reads it again before
    # each drill: a context switched mid-suite is refused, never followed or ignored. None:
    # the context is pinned.
    followed_context: Callable[[], str | None] = lambda: None
    close: Callable[[], None] = lambda: None

    @property
    def namespace(self) -> str:
        return self.config.namespace

    def redactions(self) -> tuple[str, ...]:
        """Every value no artifact may show: the secrets, and the runbook's webhook URLs and
        tokens (however the runbook environment names them)."""
        passed = (v for k, v in self.runbook_env.items() if "WEBHOOK" in k or "TOKEN" in k)
        return tuple(dict.fromkeys(v for v in (*self.secrets, *passed) if v))


class EnvironmentFactory(Protocol):
    def build(self, profile: TimingProfile) -> DrillEnvironment:
        """Build the environment; :class:`~pfdrill.errors.EnvironmentProblem` if it is not up."""
        ...
