"""The gate's runbook check: one whole runbook, one severity, a fresh sandbox, the same environment.

Base and head must meet the same world, so every check is guarded the way a
drill's preflight and restore guard a drill, with the drill's own machinery:
the drill Lease (nothing else drills meanwhile), the drill snapshot
(:class:`~pfdrill.drill.snapshot.ClusterSnapshotter`, saved to the snapshot
store, so a killed gate is restored by the next drill's preflight) and the
environment's state keepers (live alert rules, published baselines), put
back after the run — also on failure and interrupt.

:func:`run` is the one place the gate calls the runbook check; when
``pfdrill runbook check`` guards itself (issue 17), point :func:`run` at that
and drop :func:`guarded`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pfdrill.drill.context import holder_identity
from pfdrill.drill.environment import LEASE_NAME, DrillEnvironment
from pfdrill.drill.interrupts import interrupts_deferred
from pfdrill.errors import EnvironmentProblem, SafetyRefused
from pfdrill.model.runbook import RunbookRun
from pfdrill.runbook import runner
from pfdrill.runbook.environment import DrillVars, Environment, Options

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Checker:
    """Everything a runbook check needs of the running stack."""

    drill: DrillEnvironment  # cluster, config, snapshotter, keepers
    runbook: Environment  # what the runbook's commands see
    options: Options = dataclasses.field(default_factory=Options)


@contextmanager
def guarded(env: DrillEnvironment, run_id: str) -> Iterator[None]:
    """Lease, snapshot and keepers' state around a block; everything put back after it."""
    ns, cluster = env.namespace, env.cluster
    context = cluster.context
    if env.snapshots.load(context, ns) is not None:
        raise SafetyRefused(f"a killed drill left a snapshot of {ns} in {context} that is not "
                            "restored yet: run a drill (its preflight restores it) first")
    holder = holder_identity(run_id)
    if not cluster.acquire_lease(ns, LEASE_NAME, holder, env.lease_seconds):
        raise SafetyRefused(f"another drill holds the lease {ns}/{LEASE_NAME}")
    try:
        extra = {k.name: k.save() for k in env.keepers}
        snap = dataclasses.replace(env.snapshotter.take(
            run_id=run_id, holder=holder, taken_wall=dt.datetime.now(dt.UTC).isoformat()),
            extra=extra)
        env.snapshots.save(snap)
        try:
            yield
        finally:
            with interrupts_deferred() as deferred:  # a second Ctrl-C must not stop a restore
                actions = list(env.snapshotter.restore(snap))
                for keeper in env.keepers:
                    if keeper.name in snap.extra:
                        actions += keeper.restore(snap.extra[keeper.name])
                remaining = env.snapshotter.differences(snap)
            deferred.reraise()
            if remaining:
                raise EnvironmentProblem("the runbook check left the environment changed and it "
                                         f"could not be restored: {'; '.join(remaining)}")
            env.snapshots.clear(context, ns)
            log.info("restored after the runbook check: %s", "; ".join(actions) or "nothing")
    finally:
        cluster.release_lease(ns, LEASE_NAME, holder)


def _incident(run_id: str) -> str:
    return f"GATE-{run_id}-{uuid.uuid4().hex[:6].upper()}"


def run(checker: Checker, path: str | Path, severity: str, *, run_id: str) -> RunbookRun:
    """Run the whole runbook at ``path`` with ``$SEVERITY`` = ``severity``; restore after."""
    env = checker.drill
    with guarded(env, run_id):
        return runner.check(path, checker.runbook, env.cluster, env.config,
                            DrillVars(severity=severity, incident_id=_incident(run_id)),
                            (), checker.options)
