"""Claiming the drill namespace: the one guard every run that changes the fabric goes through.

A drill's preflight and restore (:mod:`.safety`) and every other entry point
that changes the namespace (``runbook check``, ``fault inject``, the gate, game
days) share these pieces, in this order, before any change:

1. the context is on the allow-list and the namespace carries the opt-in label;
2. what a killed run left (:func:`clear_killed`): the run behind the lease or
   behind a snapshot on disk whose process is gone from this host has the
   processes it started stopped and its lease released (a live one refuses,
   :class:`~pfdrill.errors.LeaseHeld`);
3. the drill Lease is taken, or :class:`~pfdrill.errors.LeaseHeld` (exit 3)
   names its holder (``wait_s``: wait for it first); then the killed run's
   snapshot is restored first (its faults rolled back with it: the
   :class:`~pfdrill.faults.keeper.LeftFaults` keeper);
4. a snapshot of what may change (ConfigMaps, Secrets, replicas, plus the
   keepers' state: live alert rules, published baselines, injected faults) is
   written to disk.

:class:`Claim` wraps a block of changes in 1–4 and always puts the snapshot
back and releases the lease afterwards — on success, exception, SIGINT or
SIGTERM — so the block leaves the environment as it found it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from pfdrill.cluster import guard, lease
from pfdrill.cluster.client import ClusterClient
from pfdrill.drill.context import holder_identity
from pfdrill.drill.interrupts import interrupts_deferred, interrupts_raise
from pfdrill.drill.ports import StateKeeper
from pfdrill.drill.snapshot import ClusterSnapshotter, Snapshot, SnapshotPlan, SnapshotStore
from pfdrill.errors import EnvironmentProblem, LeaseHeld
from pfdrill.fabric.readiness import PodHttp
from pfdrill.proc import lineage
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths

Progress = Callable[[str], None]


def check_target(cluster: ClusterClient, namespace: str, config: Config) -> None:
    """SafetyRefused (exit 4) unless the context is allowed and the namespace opted in."""
    guard.check(cluster, namespace, config)


@dataclasses.dataclass(frozen=True)
class Leftovers:
    """What killed runs left on a namespace, found (and partly cleared) before its lease is
    taken: the snapshot to restore once the lease is ours, and what was done already."""

    snapshot: Snapshot | None = None
    actions: tuple[str, ...] = ()
    runs: tuple[str, ...] = ()  # the killed runs' ids

    def __bool__(self) -> bool:
        return self.snapshot is not None or bool(self.actions)

    def describe(self) -> str:
        return f"killed run {', '.join(self.runs)}" if self.runs else "a killed run"


def clear_killed(cluster: ClusterClient, namespace: str,
                 store: SnapshotStore | None) -> Leftovers:
    """Before taking the lease: stop what killed runs of this host left running and release
    their lease; the snapshot on disk (restored once the lease is ours: :func:`restore_stale`).

    A run is killed when its process is gone: the lease's holder, or the holder of the
    snapshot on disk. One still alive on this host refuses (:class:`LeaseHeld`, naming
    it): its snapshot is no leftover. Nothing here touches the fabric itself.
    """
    stale = store.load(cluster.context, namespace) if store is not None else None
    held = cluster.lease_holder(namespace, lease.LEASE_NAME)
    actions: list[str] = []
    runs: list[str] = []
    for holder in dict.fromkeys(h for h in (held, stale.holder if stale else None) if h):
        run = lease.RunHolder.parse(holder)
        if run is None:
            continue  # a fault's holder, or no run of pfdrill's: lease.take decides
        if run.alive:
            if stale is not None and holder == stale.holder:
                raise LeaseHeld(f"a drill is still running here (pid {run.pid}, run {run.run_id}): "
                                f"{holder}", holder=holder)
            continue
        runs.append(run.run_id)
        stopped = lineage.stop_left_by(holder)
        if stopped:
            actions.append(f"stopped {len(stopped)} process(es) killed run {run.run_id} "
                           f"left: {', '.join(stopped)}")
        if holder == held:
            lease.release(cluster, namespace, holder)
            actions.append(f"released the lease of killed run {run.run_id}")
    return Leftovers(snapshot=stale, actions=tuple(actions), runs=tuple(runs))


def release_dead_holder(cluster: ClusterClient, namespace: str, holder: str) -> bool:
    """Release the lease of ``holder`` if it is a killed run of this host; whether it was.

    A run of this host that still lives is not dead: :class:`LeaseHeld` names it (a game
    day taking over a run checks its predecessor is really gone).
    """
    run = lease.RunHolder.parse(holder)
    if run is None or run.host != socket.gethostname():
        return False
    if run.alive:
        raise LeaseHeld(f"a drill is still running here (pid {run.pid}, run {run.run_id}): "
                        f"{holder}", holder=holder)
    lease.release(cluster, namespace, holder)
    return True


def put_back(snapshotter: ClusterSnapshotter, keepers: Sequence[StateKeeper],
             snap: Snapshot) -> tuple[list[str], list[str]]:
    """Restore the keepers' state (faults rolled back first: their workers stop before the
    objects go back), then the cluster objects; (actions, still different)."""
    actions: list[str] = []
    for keeper in keepers:
        if keeper.name in snap.extra:
            actions += keeper.restore(snap.extra[keeper.name])
    actions += snapshotter.restore(snap)
    return actions, snapshotter.differences(snap)


def take_snapshot(snapshotter: ClusterSnapshotter, store: SnapshotStore,
                  keepers: Sequence[StateKeeper], *, run_id: str, holder: str,
                  taken_wall: str, extra: dict[str, str] | None = None) -> tuple[Snapshot, Path]:
    """Snapshot the objects (and the keepers' state, or ``extra`` saved earlier); on disk."""
    saved = extra if extra is not None else {k.name: k.save() for k in keepers}
    snap = dataclasses.replace(snapshotter.take(run_id=run_id, holder=holder,
                                                taken_wall=taken_wall), extra=saved)
    return snap, store.save(snap)


def restore_stale(snapshotter: ClusterSnapshotter, store: SnapshotStore,
                  keepers: Sequence[StateKeeper], stale: Snapshot) -> tuple[list[str], list[str]]:
    """Put back a killed run's snapshot; EnvironmentProblem if something stays different."""
    actions, remaining = put_back(snapshotter, keepers, stale)
    if remaining:
        raise EnvironmentProblem("could not restore the snapshot left by run "
                                 f"{stale.run_id}: {'; '.join(remaining)}")
    store.clear(stale.context, stale.namespace)
    return actions, remaining


def take_namespace(cluster: ClusterClient, config: Config, store: SnapshotStore | None,
                   keepers: Sequence[StateKeeper], holder: str, *, seconds: int,
                   wait_s: float = 0.0, progress: Progress = lambda _m: None,
                   plan: SnapshotPlan | None = None) -> tuple[str, ...]:
    """Steps 1–3 of the module docstring for ``holder``: the target checked, what killed
    runs left cleared, the lease taken, a killed run's snapshot restored (each said through
    ``progress``); what was done about killed runs. The lease is released again if the
    restore fails. Without a ``store`` there is no snapshot to find (a killed run's lease
    is still released).
    """
    ns = config.namespace
    check_target(cluster, ns, config)
    left = clear_killed(cluster, ns, store)
    for action in left.actions:
        progress(action)
    lease.take(cluster, ns, holder, seconds, wait_s=wait_s, progress=progress)
    done = list(left.actions)
    stale = left.snapshot
    if stale is not None and store is not None:
        try:
            restored, _ = restore_stale(ClusterSnapshotter(cluster, plan or SnapshotPlan(ns)),
                                        store, keepers, stale)
        except BaseException:
            lease.release(cluster, ns, holder)
            raise
        said = (f"restored the snapshot left by killed run {stale.run_id}: "
                f"{'; '.join(restored) or 'nothing differed'}")
        progress(said)
        done.append(said)
    return tuple(done)


def restore_killed(cluster: ClusterClient, config: Config, store: SnapshotStore,
                   keepers: Sequence[StateKeeper], *, run_id: str,
                   progress: Progress = lambda _m: None) -> tuple[str, ...]:
    """``pfdrill restore``: what the next run would do first about a killed run, by hand —
    its processes stopped, its lease released, its snapshot (and faults) put back — then
    the namespace let go again; what was done (empty: nothing was left). A live holder
    refuses (:class:`LeaseHeld`), as a run would."""
    holder = str(lease.RunHolder.mine(run_id))
    done = take_namespace(cluster, config, store, keepers, holder, seconds=600,
                          progress=progress)
    lease.release(cluster, config.namespace, holder)
    return done


@dataclasses.dataclass
class Claim:
    """Allow-list, opt-in, lease, snapshot around a block of changes; always restored.

    ::

        with claim.Claim(client, config, store, keepers=keepers, run_id="runbook-check-…"):
            ...  # change the fabric
        # everything snapshotted is back, the lease released
    """

    cluster: ClusterClient
    config: Config
    store: SnapshotStore
    run_id: str
    keepers: Sequence[StateKeeper] = ()
    plan: SnapshotPlan | None = None
    pod_http: PodHttp | None = None  # how a restore asks a rolled-out pod if it is ready
    wait_s: float = 0.0
    lease_seconds: int = 3600
    progress: Progress = lambda _m: None
    holder: str = ""
    snapshot: Snapshot | None = dataclasses.field(default=None, init=False)
    restored: tuple[str, ...] = dataclasses.field(default=(), init=False)
    _lease: bool = dataclasses.field(default=False, init=False)
    _signals: contextlib.ExitStack = dataclasses.field(default_factory=contextlib.ExitStack,
                                                       init=False)

    def __post_init__(self) -> None:
        self.holder = self.holder or holder_identity(self.run_id)

    @property
    def namespace(self) -> str:
        return self.config.namespace

    def _snapshotter(self) -> ClusterSnapshotter:
        return ClusterSnapshotter(self.cluster, self.plan or SnapshotPlan(self.namespace),
                                  pod_http=self.pod_http)

    def __enter__(self) -> Claim:
        take_namespace(self.cluster, self.config, self.store, self.keepers, self.holder,
                       seconds=self.lease_seconds, wait_s=self.wait_s, progress=self.progress,
                       plan=self.plan)
        self._lease = True
        lineage.mark(self.holder)
        try:
            self.snapshot, path = take_snapshot(
                self._snapshotter(), self.store, self.keepers, run_id=self.run_id,
                holder=self.holder, taken_wall=dt.datetime.now(dt.UTC).isoformat())
            self.progress(f"snapshot recorded to {path}")
        except BaseException:
            self._release()
            raise
        # SIGINT/SIGTERM in the block raise, so the restore below still runs
        self._signals.enter_context(interrupts_raise())
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._signals.close()
        with interrupts_deferred() as deferred:
            remaining = self.restore()
        if remaining and kind is None:
            raise EnvironmentProblem(f"restore incomplete: {'; '.join(remaining)} "
                                     "(snapshot kept: the next run restores it first)")
        if kind is None:
            deferred.reraise()

    def restore(self) -> list[str]:
        """Put the snapshot back and release the lease; what is still different."""
        remaining: list[str] = []
        snap = self.snapshot
        if snap is not None:
            actions, remaining = put_back(self._snapshotter(), self.keepers, snap)
            self.restored = tuple(actions)
            if not remaining:
                self.store.clear(snap.context, snap.namespace)
                self.snapshot = None
            if actions:
                self.progress("restored: " + "; ".join(actions))
        self._release()
        return remaining

    def _release(self) -> None:
        if self._lease:
            lease.release(self.cluster, self.namespace, self.holder)
            self._lease = False
            lineage.unmark(self.holder)


def keepers_for(cluster_name: str, config: Config, paths: Paths, *,
                client: ClusterClient | None = None, rules_file: str = "",
                sink_url: str = "") -> tuple[StateKeeper, ...]:
    """The non-cluster state a run may change and a claim must restore: faults injected
    meanwhile (with ``client``: rolled back, their workers stopped), the live alert rules
    Prometheus loads (``pfctl monitoring`` adds to them; ``rules_file`` names them when
    given) and the baselines on the sink — the same keepers a drill's environment
    restores (:mod:`.wiring`). Without an observability stack only the faults'."""
    from pfdrill.drill.adapters import notifications, prometheus
    from pfdrill.errors import ServiceUnavailable
    from pfdrill.faults.context import FaultContext
    from pfdrill.faults.keeper import LeftFaults
    from pfdrill.obs import stack as obs_stack
    from pfdrill.sink.client import SinkClient

    try:
        ep = obs_stack.resolve(config, cluster_name, paths)
    except ServiceUnavailable:
        ep = None
    out: list[StateKeeper] = []
    if client is not None:
        out.append(LeftFaults(FaultContext(client, config, paths)))
    if ep is not None:
        found = dataclasses.replace(ep, rules_dir=str(Path(rules_file).parent)) if rules_file else ep
        rules = prometheus.rules_keeper(found, client, config.namespace,
                                        lambda: obs_stack.reload(found, paths))
        if rules is not None:
            out.append(rules)
    sink = sink_url or (ep.sink_url if ep is not None else "")
    if sink:
        out.append(notifications.SinkBaselineKeeper(SinkClient(sink)))
    return tuple(out)


def hold_for_fault(cluster: ClusterClient, config: Config, key: str, *, wait_s: float = 0.0,
                   store: SnapshotStore | None = None, keepers: Sequence[StateKeeper] = (),
                   progress: Progress = lambda _m: None) -> str:
    """Check the target, restore what a killed run left, take the lease for a hand-injected
    fault; its holder."""
    holder = lease.fault_holder(key)
    take_namespace(cluster, config, store, keepers, holder, seconds=lease.FAULT_LEASE_S,
                   wait_s=wait_s, progress=progress)
    return holder
