"""``cluster down`` leaves nothing behind, and ``up`` after ``down`` works (issue 2).

This is the one test that creates its own cluster: what it checks is the
lifecycle itself, which the shared session cluster must not go through.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
NAME = "pfdrill-lifecycle"


def pfdrill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pfdrill", *args], capture_output=True, text=True,
                          timeout=180)


def cluster_processes(name: str) -> list[str]:
    """Processes (not zombies) whose command line mentions this cluster's state dir."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if state != "Z" and f"/{name}" in cmdline and str(os.getpid()) != proc.name:
            found.append(cmdline[:120])
    return found


def listening_ports(pids_of: list[str]) -> list[str]:
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if any(f"pid={p}," in ln for p in pids_of)]


def test_down_leaves_no_processes_or_ports_and_up_works_again() -> None:
    try:
        for round_ in (1, 2):
            up = pfdrill("cluster", "up", "--name", NAME)
            assert up.returncode == 0, up.stderr
            assert "running:    yes" in up.stdout
            assert cluster_processes(NAME), "nothing runs after up"
            pids = [line.split()[0] for line in subprocess.run(
                ["pgrep", "-f", f"/{NAME}"], capture_output=True, text=True).stdout.splitlines()]
            down = pfdrill("cluster", "down", "--name", NAME)
            assert down.returncode == 0, down.stderr
            deadline = time.monotonic() + 15
            while cluster_processes(NAME) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert cluster_processes(NAME) == [], f"round {round_}: leftovers"
            assert listening_ports(pids) == [], f"round {round_}: ports still open"
            status = pfdrill("cluster", "status", "--name", NAME)
            assert status.returncode == 1 and "running:    no" in status.stdout
    finally:
        pfdrill("cluster", "down", "--name", NAME)
