"""Nothing a test starts may outlive the test session: the session-end check.

Run from ``pytest_sessionfinish`` — after every fixture, the session-scoped
cluster included, has been torn down — it lists the pytest process's
descendants still alive (or dead but never waited for: a ``Popen`` nobody
reaped). Detached daemons (their own session, ``setsid``) are allowed only
when the cluster is deliberately kept (``--pfdrill-keep-cluster``).
"""

from __future__ import annotations

import os
import time

import psutil

GRACE_S = 10.0  # processes told to stop at teardown may take a moment to exit


def leftovers(*, allow_detached: bool, grace_s: float = GRACE_S) -> list[str]:
    """Descriptions of this process's descendants still there after ``grace_s``."""
    me = psutil.Process()
    sid = os.getsid(0)
    deadline = time.monotonic() + grace_s
    while True:
        found = []
        for child in me.children(recursive=True):
            try:
                if allow_detached and os.getsid(child.pid) != sid:
                    continue
                status = child.status()
                what = " ".join(child.cmdline()) or child.name()
            except (psutil.NoSuchProcess, ProcessLookupError):
                continue
            except psutil.ZombieProcess:
                status, what = psutil.STATUS_ZOMBIE, f"pid {child.pid}"
            found.append(f"pid {child.pid} ({status}): {what[:160]}")
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.5)
