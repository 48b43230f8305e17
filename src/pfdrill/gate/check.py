"""The gate's runbook check: one whole runbook, one severity, a fresh sandbox, the same environment.

Base and head must meet the same world, so every check runs inside the
claim every entry point that changes the fabric goes through
(:class:`~pfdrill.drill.claim.Claim`: allow-list, opt-in, the drill Lease, a
snapshot on disk with the environment's state keepers — live alert rules,
published baselines — put back afterwards, also on failure and interrupt), as
``pfdrill runbook check`` does.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from pathlib import Path

from pfdrill.drill import claim
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.model.runbook import RunbookRun
from pfdrill.runbook import runner
from pfdrill.runbook.inputs import DrillVars, Environment, Options

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Checker:
    """Everything a runbook check needs of the running stack."""

    drill: DrillEnvironment  # cluster, config, snapshotter, keepers
    runbook: Environment  # what the runbook's commands see
    options: Options = dataclasses.field(default_factory=Options)


def _incident(run_id: str) -> str:
    return f"GATE-{run_id}-{uuid.uuid4().hex[:6].upper()}"


def run(checker: Checker, path: str | Path, severity: str, *, run_id: str,
        progress: claim.Progress = lambda _m: None) -> RunbookRun:
    """Run the whole runbook at ``path`` with ``$SEVERITY`` = ``severity``; restored after."""
    env = checker.drill
    incident = _incident(run_id)
    with claim.Claim(env.cluster, env.config, env.snapshots, run_id=incident.lower(),
                     keepers=env.keepers, plan=env.snapshotter.plan,
                     pod_http=env.snapshotter.pod_http, wait_s=env.lease_wait_s,
                     lease_seconds=env.lease_seconds, progress=progress):
        return runner.check(path, checker.runbook, env.cluster, env.config,
                            DrillVars(severity=severity, incident_id=incident),
                            (), checker.options)
