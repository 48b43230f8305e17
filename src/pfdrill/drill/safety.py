"""Safety around a drill: preflight (allow-list, opt-in, lease, steady state, snapshot) and restore.

Nothing changes in a cluster before :func:`preflight` has checked the context
allow-list and the namespace opt-in label and taken the drill Lease (the
pieces every other entry point's :class:`~pfdrill.drill.claim.Claim` uses); the
snapshot it records is what :func:`restore` puts back — always, on success,
failure, exception or signal — and what the next run restores first if this
one was SIGKILLed.
"""

from __future__ import annotations

import dataclasses

from pfdrill.cluster import lease
from pfdrill.drill import claim, hold
from pfdrill.drill.context import DrillContext
from pfdrill.drill.environment import LEASE_NAME
from pfdrill.drill.snapshot import Snapshot
from pfdrill.errors import ContractGap, EnvironmentProblem, SafetyRefused
from pfdrill.model.checkpoint import Checkpoint
from pfdrill.model.evidence import RestoreRecord, SteadyState
from pfdrill.model.phases import Injection, Outcome, Preflight, Restoration, Takeover
from pfdrill.model.timeline import EventKind
from pfdrill.proc import lineage


def preflight(c: DrillContext) -> Preflight:
    env, ns, rec = c.env, c.env.namespace, c.rec
    context = env.cluster.context
    switched = env.followed_context()
    if switched is not None and switched != context:
        raise SafetyRefused(f"the kubeconfig's current context is now {switched!r}, but this "
                            f"suite drills {context!r}: refused (pin one with --context)")
    claim.check_target(env.cluster, ns, env.config)
    rec.note(EventKind.SAFETY, f"context {context} allowed; namespace {ns} opted in")
    left = claim.clear_killed(env.cluster, ns, env.snapshots)
    if not left:  # refused before the lease: nothing of this drill touches the fabric
        _refuse_gaps(c, before_lease=True)
    for action in left.actions:
        rec.note(EventKind.SAFETY, action)
    lease.take(env.cluster, ns, c.holder, env.lease_seconds, wait_s=env.lease_wait_s,
               progress=lambda m: rec.note(EventKind.SAFETY, m))
    c.hold.lease_taken()
    lineage.mark(c.holder)  # what this drill starts from now on, the next run can find
    rec.note(EventKind.SAFETY, f"lease {ns}/{LEASE_NAME} acquired")
    stale_restore = _restore_stale(c, left) if left else None
    # A baseline left by an earlier drill or run would judge this steady state against
    # stale figures (a busier or quieter machine then); relative rules fall back to the
    # recent past until this drill publishes its own, below.
    env.classifier.withdraw_baseline()
    samples, holds = c.poll(env.steady_state.check,
                            lambda got: bool(got) and all(p.ok for p in got), rec.remaining())
    steady = SteadyState(at=round(rec.elapsed(), 3), holds=holds, samples=tuple(samples))
    rec.note(EventKind.STEADY_STATE, "steady state holds" if holds else
             f"steady state does not hold: {steady.describe_failures()}")
    if not holds:
        return Preflight(Outcome.failed(
            f"steady state does not hold: {steady.describe_failures()}"),
            steady=steady, stale_restore=stale_restore)
    if left:  # what the killed run left (watchers scaled away) hid the fabric's parts
        _refuse_gaps(c)
    # Saved before the baseline is published: restoring then also withdraws this drill's
    # baseline, so the next drill's preflight is not judged against a stale one.
    extra = {k.name: k.save() for k in env.keepers}
    last = hold.last_rollback(context)
    since = rec.clock.monotonic() - last if last is not None else None
    if since is not None and 0 <= since < env.signal_window_s:  # (another clock: not ours)
        wait = env.signal_window_s - since
        if wait > 0:
            rec.note(EventKind.STEADY_STATE, f"waiting {wait:.0f} s so the baseline's "
                     f"{env.signal_window_s:g} s rate window holds no trace of the last fault "
                     "(or of baseline traffic starting)")
            rec.clock.sleep(wait)
    baseline = tuple(env.classifier.baseline())
    rules = c.read("Prometheus rules", env.rules.loaded_rules)
    snap, path = claim.take_snapshot(env.snapshotter, env.snapshots, env.keepers,
                                     run_id=c.run_id, holder=c.holder,
                                     taken_wall=rec.clock.now().isoformat(), extra=extra)
    c.hold.snapshot_taken(snap)
    rec.note(EventKind.SNAPSHOT, f"snapshot of {len(snap.configmaps)} ConfigMap(s), "
             f"{len(snap.secrets)} Secret(s), {len(snap.replicas)} Deployment(s)"
             f"{', ' + ', '.join(snap.extra) if snap.extra else ''} recorded to {path}")
    return Preflight(Outcome.passed(), steady=steady, baseline=baseline,
                     rules_before=None if rules is None else tuple(sorted(rules)),
                     stale_restore=stale_restore)


def _refuse_gaps(c: DrillContext, *, before_lease: bool = False) -> None:
    """ContractGap when the fabric lacks what this drill needs.

    Looked at before the lease, a gap may be another run's doing: its deploy still
    bringing pods up, or its fault. The fabric says nothing about itself while a live
    run holds the lease, so that run is named (LeaseHeld, exit 3), after waiting for it
    as long as ``--wait`` allows, and a fabric it let go of is looked at again.
    """
    gaps = c.env.contract_gaps(c.spec)
    if gaps and before_lease and c.env.cluster.lease_holder(c.env.namespace, LEASE_NAME):
        lease.wait_free(c.env.cluster, c.env.namespace, wait_s=c.env.lease_wait_s,
                        progress=lambda m: c.rec.note(EventKind.SAFETY, m))
        gaps = c.env.contract_gaps(c.spec)
    if gaps:
        raise ContractGap("the fabric lacks what this drill needs: " + "; ".join(gaps))


def _put_back(c: DrillContext, snap: Snapshot) -> tuple[list[str], list[str]]:
    return claim.put_back(c.env.snapshotter, c.env.keepers, snap)


def _restore_stale(c: DrillContext, left: claim.Leftovers) -> RestoreRecord:
    """Put back what killed runs left (their processes are stopped and their lease released
    already): the snapshot, and with it their faults; told to the observers as a stale
    restore, also when there was no snapshot yet (a run killed early in its preflight)."""
    stale = left.snapshot
    actions, remaining = _put_back(c, stale) if stale is not None else ([], [])
    actions = [*left.actions, *actions]
    what = (f"snapshot left by run {stale.run_id} (taken {stale.taken_wall})"
            if stale is not None else f"what {left.describe()} left (no snapshot yet)")
    record = RestoreRecord(ok=not remaining, at=round(c.rec.elapsed(), 3),
                           actions=tuple(actions), remaining=tuple(remaining), stale=True,
                           reason=what)
    c.rec.note(EventKind.RESTORED, (f"restored the snapshot left by killed run "
               f"{stale.run_id}" if stale is not None else f"cleared {what}")
               + f": {'; '.join(actions) or 'nothing differed'}")
    c.observers.restored(c.spec, record)
    if stale is None:
        return record
    if remaining:
        raise EnvironmentProblem("could not restore the snapshot left by run "
                                 f"{stale.run_id}: {'; '.join(remaining)}")
    c.env.snapshots.clear(stale.context, stale.namespace)
    return record


def restore(c: DrillContext) -> Restoration:
    """Put the cluster back: fault rollback, snapshot restore, lease release. Idempotent."""
    actions: list[str] = []
    problems: list[str] = []
    try:
        if c.hold.fault_active:
            c.rollback_fault("restore")
            actions.append("fault rolled back")
    except Exception as exc:  # the snapshot restore below must still run
        problems.append(f"fault rollback failed: {exc}")
    remaining: list[str] = []
    snap = c.hold.snapshot
    if snap is not None:
        try:
            done, remaining = _put_back(c, snap)
            actions += done
            if not remaining:
                c.env.snapshots.clear(snap.context, snap.namespace)
                c.hold.snapshot_restored()
            c.rec.note(EventKind.SNAPSHOT, "snapshot put back: " + ("; ".join(done) or
                       "nothing differed") + (f"; still different: {'; '.join(remaining)}"
                                              if remaining else ""))
        except Exception as exc:
            problems.append(f"snapshot restore failed: {exc} (snapshot kept for the next run)")
    if c.hold.lease_held:
        try:
            lease.release(c.env.cluster, c.env.namespace, c.holder)
            c.hold.lease_released()
            lineage.unmark(c.holder)
        except Exception as exc:
            problems.append(f"lease release failed: {exc}")
    ok = not remaining and not problems
    reason = "; ".join(problems + [f"still different: {d}" for d in remaining])
    record = RestoreRecord(ok=ok, at=round(c.rec.elapsed(), 3), actions=tuple(actions),
                           remaining=tuple(remaining), reason=reason)
    c.rec.note(EventKind.RESTORED, "restored: " + ("; ".join(actions) or "nothing to do")
               if ok else f"restore incomplete: {reason}")
    c.observers.restored(c.spec, record)
    outcome = Outcome.passed("; ".join(actions)) if ok else Outcome.failed(reason)
    return Restoration(outcome, record=record)


# --- taking a running drill over (a restarted game day) ----------------------------------
def take_over(c: DrillContext, cp: Checkpoint) -> Takeover:
    """Make a dead process's drill this process's own, so that restore can undo it.

    Refused — touching nothing — while the previous holder still runs here
    (:class:`~pfdrill.errors.LeaseHeld`), or when the snapshot on disk is not this
    drill's. Otherwise, in this order: the dead holder's lease passes to this process;
    the snapshot is re-attached and re-written under this holder (so another drill's
    preflight sees a live holder, not a dead one to clean up after); the fault is
    re-armed unless the checkpoint shows it rolled back. No snapshot left means a later
    drill's preflight has already restored this one: nothing is re-attached.
    """
    env, ns = c.env, c.env.namespace
    context = env.cluster.context
    snap = env.snapshots.load(context, ns)
    if snap is None:
        c.rec.note(EventKind.SAFETY, f"run {cp.run_id} was already restored (its snapshot is "
                   "gone): nothing to take over")
        return Takeover(Outcome.failed("already restored by another run's preflight; nothing "
                                       "to take over"), previous_holder=cp.holder)
    if snap.run_id != cp.run_id:
        raise SafetyRefused(f"the snapshot of {ns} in {context} belongs to run {snap.run_id}, "
                            f"not {cp.run_id}")
    for holder in dict.fromkeys((cp.holder, snap.holder)):  # LeaseHeld while one lives
        claim.release_dead_holder(env.cluster, ns, holder)
    lease.take(env.cluster, ns, c.holder, env.lease_seconds)
    c.hold.lease_taken()
    snap = dataclasses.replace(snap, holder=c.holder)
    env.snapshots.save(snap)
    c.hold.snapshot_taken(snap)
    # Armed unless rolled back: an inject killed before its first checkpoint after arming
    # still left its fault (rolling back a fault that never went in is a no-op).
    injected = any(isinstance(f.record(), Injection) for f in cp.found)
    armed = cp.fault_armed or not injected
    if armed:
        c.hold.arm(env.faults.create(c.spec.fault.name))
    c.rec.note(EventKind.SAFETY, f"took over run {cp.run_id} from {cp.holder}: lease "
               f"{ns}/{LEASE_NAME} and snapshot re-attached"
               + ("; fault re-armed for restore" if armed else ""))
    return Takeover(Outcome.passed(), previous_holder=cp.holder, snapshot_run=snap.run_id,
                    fault_armed=armed)
