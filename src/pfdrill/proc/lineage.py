"""Which run started a process: so nothing a killed run started outlives the next run.

Two mechanisms, because a SIGKILL leaves no handler to clean up:

- :func:`die_with_parent` (a ``preexec_fn``): the child gets SIGTERM when the
  thread that started it dies, whatever killed it. Direct children — locust,
  a runbook command's shell, a port-forward — go at once.
- Their children do not (a runbook command's ``kubectl`` or ``pfctl``, a
  ``sleep``): while a run holds the drill Lease, :func:`mark` puts its holder
  identity in the environment as ``PFDRILL_RUN``, every process started meanwhile
  inherits it (a runbook sandbox passes it on with :func:`carried`), and the next
  run that finds that holder dead stops whatever still carries it
  (:func:`stop_left_by`). Detached daemons — the observability servers, the
  runtime, a fault's background worker — are meant to outlive the run that
  started them; :func:`detached` takes the mark off their environment (a fault's
  worker is stopped by that fault's rollback instead).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path

RUN_VAR = "PFDRILL_RUN"
_PR_SET_PDEATHSIG = 1

try:  # loaded here, not in the forked child: dlopen after fork can deadlock
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:
    _LIBC = None


def die_with_parent() -> None:
    """``preexec_fn``: SIGTERM this child when its parent thread dies (Linux)."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def mark(holder: str) -> None:
    """Processes started from now on belong to the run ``holder``."""
    os.environ[RUN_VAR] = holder


def unmark(holder: str) -> None:
    """The run ``holder`` let go of the namespace: later processes are nobody's."""
    if os.environ.get(RUN_VAR) == holder:
        del os.environ[RUN_VAR]


def carried() -> dict[str, str]:
    """The mark, for an environment built from scratch (a runbook sandbox)."""
    value = os.environ.get(RUN_VAR)
    return {RUN_VAR: value} if value else {}


def detached(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` for a process meant to outlive this run: without the mark."""
    return {k: v for k, v in env.items() if k != RUN_VAR}


def _owner(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or another user's
        return None
    prefix = f"{RUN_VAR}=".encode()
    for entry in raw.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix):].decode("utf-8", "replace")
    return None


def _describe(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    words = [a.decode("utf-8", "replace") for a in argv if a]
    return f"pid {pid} ({' '.join(words)[:80]})"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def left_by(holder: str) -> list[int]:
    """Pids of running processes that carry ``holder``'s mark (never this process)."""
    me = os.getpid()
    return [int(e.name) for e in Path("/proc").iterdir()
            if e.name.isdigit() and int(e.name) != me and _owner(int(e.name)) == holder
            and pid_alive(int(e.name))]


def stop_left_by(holder: str, grace_s: float = 5.0) -> list[str]:
    """SIGTERM every process ``holder`` left, SIGKILL what is there after ``grace_s``;
    what was stopped. Only for a holder known to be dead: its processes are orphans."""
    pids = left_by(holder)
    stopped = [_describe(p) for p in pids]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + (grace_s if sig is signal.SIGTERM else 5.0)
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if pid_alive(p)]
            if pids:
                time.sleep(0.1)
        if not pids:
            break
    return stopped
