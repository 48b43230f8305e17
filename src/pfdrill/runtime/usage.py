"""Real CPU and memory of a container's processes, for ``kubectl top``.

The runtime samples each container's process group from ``/proc`` and writes
the figures to a kwok ``ResourceUsage`` object named after the pod; the kwok
controller serves them on the node's ``/metrics/resource`` endpoint, which
metrics-server scrapes as it would a kubelet's.
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
        self._last_cpu, self._last_at = cpu, now
        return rate, mem


def quantity_cpu(cores: float) -> str:
    return f"{max(0, round(cores * 1000))}m"


def quantity_memory(nbytes: int) -> str:
    return f"{max(0, nbytes // 1024)}Ki"
