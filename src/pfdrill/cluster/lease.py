"""The drill Lease: one drill (or any run that changes the fabric) per namespace at a time.

Every entry point that may change the drill namespace — a drill's preflight,
``runbook check``, ``fault inject``, the bring-up of a running stack, the gate,
game days — asks here first, before any change: :func:`ensure_free` only
looks (the bring-up), :func:`take` takes it or waits. A refusal names the
holder (:class:`~pfdrill.errors.LeaseHeld`, exit 3), so whoever is blocked
knows which run to wait for.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from collections.abc import Callable

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import LeaseHeld
from pfdrill.proc.lineage import pid_alive

LEASE_NAME = "pfdrill-drill"
WAIT_POLL_S = 2.0
FAULT_LEASE_S = 4 * 3600  # a fault injected outside a drill holds the namespace this long at most


@dataclasses.dataclass(frozen=True)
class RunHolder:
    """A run's identity on the lease, ``pfdrill/<host>/<pid>/<run id>``: a holder whose
    process is gone from this host is recognisable as a killed run."""

    host: str
    pid: int
    run_id: str

    @classmethod
    def mine(cls, run_id: str) -> RunHolder:
        return cls(socket.gethostname(), os.getpid(), run_id)

    @classmethod
    def parse(cls, text: str) -> RunHolder | None:
        """The run behind a holder string; ``None`` for a fault's holder or a stranger's."""
        parts = text.split("/")
        if len(parts) != 4 or parts[0] != "pfdrill" or not parts[2].isdigit():
            return None
        return cls(parts[1], int(parts[2]), parts[3])

    def __str__(self) -> str:
        return f"pfdrill/{self.host}/{self.pid}/{self.run_id}"

    @property
    def alive(self) -> bool:
        """Its process runs, here or (for all this host can tell) on another host.

        This very process counts as not running a holder it finds: it is about to take
        the lease itself, so a holder of its pid is an earlier run it abandoned.
        """
        if self.host != socket.gethostname():
            return True
        return self.pid != os.getpid() and pid_alive(self.pid)


def killed(holder: str | None) -> RunHolder | None:
    """The run behind ``holder`` if it is a run of this host that no longer runs."""
    run = RunHolder.parse(holder) if holder else None
    return run if run is not None and not run.alive else None


def fault_holder(key: str) -> str:
    """The holder of a fault injected outside a drill (``pfdrill fault inject``, a plain
    ``chaos run``): it keeps the namespace until that key is rolled back, so no drill
    starts over it, and a refusal names the key to roll back."""
    return f"pfdrill/{socket.gethostname()}/fault/{key}"


def fault_key(holder: str) -> str | None:
    """The key behind a :func:`fault_holder` string (of any host); ``None`` for others."""
    parts = holder.split("/", 3)
    if len(parts) == 4 and parts[0] == "pfdrill" and parts[2] == "fault" and parts[3]:
        return parts[3]
    return None


def _held(namespace: str, holder: str) -> LeaseHeld:
    key = fault_key(holder)
    if key is not None:
        return LeaseHeld(f"a fault injected outside a drill holds the lease {namespace}/"
                         f"{LEASE_NAME}: {holder} (nothing was changed; roll it back with "
                         f"`pfdrill fault rollback --key {key}`, or wait for it with --wait)",
                         holder=holder)
    return LeaseHeld(f"another drill holds the lease {namespace}/{LEASE_NAME}: {holder} "
                     "(nothing was changed; wait for it, or pass --wait)", holder=holder)


def ensure_free(client: ClusterClient, namespace: str, *, mine: str | None = None) -> None:
    """Raise :class:`LeaseHeld` if anyone but ``mine`` holds the lease; change nothing.

    A killed run's lease does not count: whoever takes the lease next restores what
    that run left first (:mod:`pfdrill.drill.claim`).
    """
    holder = client.lease_holder(namespace, LEASE_NAME)
    if holder is not None and holder != mine and killed(holder) is None:
        raise _held(namespace, holder)


def _until(client: ClusterClient, namespace: str, done: Callable[[], bool], *, wait_s: float,
           progress: Callable[[str], None], clock: Callable[[], float],
           sleep: Callable[[float], None]) -> None:
    """Until ``done()``; meanwhile say who holds the lease; LeaseHeld after ``wait_s``."""
    deadline = clock() + max(0.0, wait_s)
    told = ""
    while not done():
        holder = client.lease_holder(namespace, LEASE_NAME) or "(released meanwhile)"
        if clock() >= deadline:
            raise _held(namespace, holder)
        if holder != told:
            progress(f"waiting for the lease {namespace}/{LEASE_NAME} held by {holder}")
            told = holder
        sleep(min(WAIT_POLL_S, max(0.0, deadline - clock())))


def wait_free(client: ClusterClient, namespace: str, *, wait_s: float = 0.0,
              progress: Callable[[str], None] = lambda _m: None,
              clock: Callable[[], float] = time.monotonic,
              sleep: Callable[[float], None] = time.sleep) -> None:
    """:func:`ensure_free`, waiting up to ``wait_s`` for the holder to let go; changes nothing."""

    def free() -> bool:
        holder = client.lease_holder(namespace, LEASE_NAME)
        return holder is None or killed(holder) is not None

    _until(client, namespace, free, wait_s=wait_s, progress=progress, clock=clock, sleep=sleep)


def take(client: ClusterClient, namespace: str, holder: str, seconds: int, *,
         wait_s: float = 0.0, progress: Callable[[str], None] = lambda _m: None,
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> None:
    """Take the lease for ``holder``; wait up to ``wait_s`` for its holder to let go."""
    _until(client, namespace,
           lambda: client.acquire_lease(namespace, LEASE_NAME, holder, seconds),
           wait_s=wait_s, progress=progress, clock=clock, sleep=sleep)


def release(client: ClusterClient, namespace: str, holder: str) -> None:
    client.release_lease(namespace, LEASE_NAME, holder)
