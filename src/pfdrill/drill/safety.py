"""Safety around a drill: preflight (allow-list, opt-in, lease, steady state, snapshot) and restore.

Nothing changes in a cluster before :func:`preflight` has checked the context
allow-list and the namespace opt-in label and taken the drill Lease; the
snapshot it records is what :func:`restore` puts back — always, on success,
failure, exception or signal — and what the next run restores first if this
one was SIGKILLed.
"""

from __future__ import annotations

import dataclasses
import os
import socket

from pfdrill.drill import injection
from pfdrill.drill.environment import LEASE_NAME
from pfdrill.drill.session import DrillSession, Outcome
from pfdrill.drill.snapshot import Snapshot
from pfdrill.errors import EnvironmentProblem, ObjectNotFound, SafetyRefused
from pfdrill.model.evidence import RestoreRecord, SteadyState
from pfdrill.model.timeline import EventKind


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def preflight(s: DrillSession) -> Outcome:
    env, ns = s.env, s.env.namespace
    context = env.cluster.context
    if not env.config.context_allowed(context):
        raise SafetyRefused(f"context {context!r} is not on the drill allow-list "
                            f"({', '.join(env.config.allowed_contexts)})")
    try:
        labels = env.cluster.namespace_labels(ns)
    except ObjectNotFound:
        raise SafetyRefused(f"namespace {ns!r} does not exist in context {context!r}") from None
    if labels.get(env.config.optin_key) != env.config.optin_value:
        raise SafetyRefused(f"namespace {ns!r} is not opted in to drills "
                            f"(label {env.config.optin_label} missing)")
    s.note(EventKind.SAFETY, f"context {context} allowed; namespace {ns} opted in")
    stale = env.snapshots.load(context, ns)
    if stale is not None:
        _release_dead_holder(s, stale)
    if not env.cluster.acquire_lease(ns, LEASE_NAME, s.holder, env.lease_seconds):
        raise SafetyRefused(f"another drill holds the lease {ns}/{LEASE_NAME}")
    s.lease_held = True
    s.note(EventKind.SAFETY, f"lease {ns}/{LEASE_NAME} acquired")
    if stale is not None:
        _restore_stale(s, stale)
    # A baseline left by an earlier drill or run would judge this steady state against
    # stale figures (a busier or quieter machine then); relative rules fall back to the
    # recent past until this drill publishes its own, below.
    env.classifier.withdraw_baseline()
    samples, holds = s.poll(env.steady_state.check,
                                lambda got: bool(got) and all(p.ok for p in got),
                                s.remaining())
    s.steady_before = SteadyState(at=round(s.elapsed(), 3), holds=holds,
                                     samples=tuple(samples))
    s.note(EventKind.STEADY_STATE, "steady state holds" if holds else
           f"steady state does not hold: {s.steady_before.describe_failures()}")
    if not holds:
        return Outcome.failed(
            f"steady state does not hold: {s.steady_before.describe_failures()}")
    # Saved before the baseline is published: restoring then also withdraws this drill's
    # baseline, so the next drill's preflight is not judged against a stale one.
    extra = {k.name: k.save() for k in env.keepers}
    last = injection.LAST_ROLLBACK.get(env.cluster.context)
    since = s.clock.monotonic() - last if last is not None else None
    if since is not None and 0 <= since < env.signal_window_s:  # (another clock: not ours)
        wait = env.signal_window_s - since
        if wait > 0:
            s.note(EventKind.STEADY_STATE, f"waiting {wait:.0f} s so the baseline's "
                   f"{env.signal_window_s:g} s rate window holds no trace of the last fault")
            s.clock.sleep(wait)
    s.baseline = tuple(env.classifier.baseline())
    s.rules_before = s.read("Prometheus rules", env.rules.loaded_rules)
    snap = env.snapshotter.take(run_id=s.run_id, holder=s.holder,
                                taken_wall=s.clock.now().isoformat())
    snap = dataclasses.replace(snap, extra=extra)
    path = env.snapshots.save(snap)
    s.snapshot = snap
    s.note(EventKind.SNAPSHOT, f"snapshot of {len(snap.configmaps)} ConfigMap(s), "
           f"{len(snap.secrets)} Secret(s), {len(snap.replicas)} Deployment(s)"
              f"{', ' + ', '.join(snap.extra) if snap.extra else ''} recorded to {path}")
    return Outcome.passed()


def _release_dead_holder(s: DrillSession, stale: Snapshot) -> None:
    parts = stale.holder.split("/")
    if len(parts) == 4 and parts[1] == socket.gethostname() and parts[2].isdigit():
        pid = int(parts[2])
        if pid != os.getpid() and _pid_alive(pid):
            raise SafetyRefused(f"a drill is still running here (pid {pid}, run {parts[3]})")
        s.env.cluster.release_lease(s.env.namespace, LEASE_NAME, stale.holder)
        s.note(EventKind.SAFETY, f"released the lease of killed run {stale.run_id}")


def _put_back(s: DrillSession, snap: Snapshot) -> tuple[list[str], list[str]]:
    """Restore the cluster objects and the keepers' state; (actions, still different)."""
    actions = list(s.env.snapshotter.restore(snap))
    for keeper in s.env.keepers:
        if keeper.name in snap.extra:
            actions += keeper.restore(snap.extra[keeper.name])
    return actions, s.env.snapshotter.differences(snap)


def _restore_stale(s: DrillSession, stale: Snapshot) -> None:
    actions, remaining = _put_back(s, stale)
    record = RestoreRecord(ok=not remaining, at=round(s.elapsed(), 3),
                           actions=tuple(actions), remaining=tuple(remaining), stale=True,
                           reason=f"snapshot left by run {stale.run_id} "
                                  f"(taken {stale.taken_wall})")
    s.note(EventKind.RESTORED, f"restored the snapshot left by killed run "
           f"{stale.run_id}: {'; '.join(actions) or 'nothing differed'}")
    s.observers.restored(s.spec, record)
    if remaining:
        raise EnvironmentProblem("could not restore the snapshot left by run "
                                 f"{stale.run_id}: {'; '.join(remaining)}")
    s.env.snapshots.clear(stale.context, stale.namespace)


def restore(s: DrillSession) -> Outcome:
    """Put the cluster back: fault rollback, snapshot restore, lease release. Idempotent."""
    actions: list[str] = []
    problems: list[str] = []
    try:
        if s.fault_active:
            injection.rollback_fault(s, "restore")
            actions.append("fault rolled back")
    except Exception as exc:  # the snapshot restore below must still run
        problems.append(f"fault rollback failed: {exc}")
    remaining: list[str] = []
    snap = s.snapshot
    if snap is not None:
        try:
            done, remaining = _put_back(s, snap)
            actions += done
            if not remaining:
                s.env.snapshots.clear(snap.context, snap.namespace)
                s.snapshot = None
        except Exception as exc:
            problems.append(f"snapshot restore failed: {exc} (snapshot kept for the next run)")
    if s.lease_held:
        try:
            s.env.cluster.release_lease(s.env.namespace, LEASE_NAME, s.holder)
            s.lease_held = False
        except Exception as exc:
            problems.append(f"lease release failed: {exc}")
    ok = not remaining and not problems
    reason = "; ".join(problems + [f"still different: {d}" for d in remaining])
    s.restore_record = RestoreRecord(ok=ok, at=round(s.elapsed(), 3),
                                        actions=tuple(actions), remaining=tuple(remaining),
                                        reason=reason)
    s.note(EventKind.RESTORED, "restored: " + ("; ".join(actions) or "nothing to do")
           if ok else f"restore incomplete: {reason}")
    s.observers.restored(s.spec, s.restore_record)
    return Outcome.passed("; ".join(actions)) if ok else Outcome.failed(reason)
