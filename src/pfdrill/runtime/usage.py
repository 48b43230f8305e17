"""Real CPU and memory of a container's processes, for ``kubectl top``.

The runtime samples each container's process group from ``/proc`` and writes
the figures to a kwok ``ResourceUsage`` object named after the pod; the kwok
controller serves them on the node's ``/metrics/resource`` endpoint, which
metrics-server scrapes as it would a kubelet's.

kwok takes a CPU *rate* and integrates it into the cumulative counter it serves, from
the moment it first sees the object. metrics-server drops a container whose cumulative
CPU is 0 ("Failed getting complete container metric"), so a rate of 0 until the process
does something keeps an idle pod out of ``kubectl top`` for good. The first sample
therefore reports the process's average rate since it started (a real process has
spent CPU starting up), and rates are written in nanocores so a small one is not
rounded to zero.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state, fields[2] the process group (stat fields 3 and 5).
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def _age_seconds(pid: int) -> float:
    """How long the process has run (its start time, in clock ticks after boot)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return 0.0
    return max(0.0, uptime - int(fields[19]) / _TICKS)  # stat field 22: starttime


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


@dataclasses.dataclass
class UsageSampler:
    """CPU rate (cores) between two samples and current memory of one process group."""

    _last_cpu: float = 0.0
    _last_at: float = 0.0

    def sample(self, pgid: int | None) -> tuple[float, int]:
        if pgid is None:
            self._last_at = 0.0
            return 0.0, 0
        members = _group_members(pgid)
        cpu = sum(_cpu_seconds(p) for p in members)
        mem = sum(_rss_bytes(p) for p in members)
        now = time.monotonic()
        rate = 0.0
        if self._last_at and now > self._last_at and cpu >= self._last_cpu:
            rate = (cpu - self._last_cpu) / (now - self._last_at)
        elif not self._last_at:  # first sample: the average since the group leader started
            age = _age_seconds(pgid)
            rate = cpu / age if age > 0 else 0.0
        self._last_cpu, self._last_at = cpu, now
        return rate, mem


def quantity_cpu(cores: float) -> str:
    """Cores as a Kubernetes quantity in nanocores (``0.0004`` → ``400000n``, not ``0m``)."""
    return f"{max(0, round(cores * 1e9))}n"


def quantity_memory(nbytes: int) -> str:
    return f"{max(0, nbytes // 1024)}Ki"
