"""A run's mark on the processes it starts: the next run stops what a killed one left."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from pfdrill.proc import lineage


@pytest.fixture
def marked() -> Iterator[str]:
    holder = f"pfdrill/test/{os.getpid()}/lineage-{time.monotonic_ns()}"
    lineage.mark(holder)
    try:
        yield holder
    finally:
        lineage.unmark(holder)
    assert lineage.RUN_VAR not in os.environ


def test_grandchildren_carry_the_mark_and_are_stopped(marked: str) -> None:
    # a shell that starts a sleep and waits: the sleep is the grandchild a SIGKILL leaves
    shell = subprocess.Popen(["bash", "-c", "sleep 300 & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(lineage.left_by(marked)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(lineage.left_by(marked)) == 2
        stopped = lineage.stop_left_by(marked, grace_s=2)
        assert len(stopped) == 2 and any("sleep 300" in s for s in stopped)
        assert shell.wait(timeout=10) != 0
        assert lineage.left_by(marked) == []
    finally:
        if shell.poll() is None:
            shell.kill()
            shell.wait()


def test_detached_and_unmarked_processes_are_nobodys(marked: str) -> None:
    env = lineage.detached(os.environ)
    assert lineage.RUN_VAR not in env and lineage.carried() == {lineage.RUN_VAR: marked}
    daemon = subprocess.Popen(["sleep", "300"], env=env)
    try:
        time.sleep(0.2)
        assert daemon.pid not in lineage.left_by(marked)
        assert lineage.stop_left_by(marked, grace_s=1) == []
        assert daemon.poll() is None
    finally:
        daemon.kill()
        daemon.wait()


def test_a_child_dies_with_its_parent() -> None:
    # the parent (a python) starts a sleep with die_with_parent, prints its pid, is SIGKILLed
    code = ("import subprocess, sys; from pfdrill.proc import lineage; "
            "p = subprocess.Popen(['sleep', '300'], preexec_fn=lineage.die_with_parent); "
            "print(p.pid, flush=True); sys.stdin.read()")
    parent = subprocess.Popen([sys.executable, "-c", code],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.communicate()  # reaped, its pipes closed
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{child}")
