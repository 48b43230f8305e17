"""The session-end check itself: a session that leaves a process behind fails, naming it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS = Path(__file__).resolve().parents[1]


def _session(pytester: pytest.Pytester, body: str) -> pytest.RunResult:
    pytester.makeconftest(f'''
import sys
sys.path.insert(0, {str(TESTS)!r})
import leakcheck
import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    left = leakcheck.leftovers(allow_detached=False, grace_s=1.0)
    if left:
        print("LEFT:", left)
        session.exitstatus = 1
''')
    pytester.makepyfile(test_it=body)
    return pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")


def test_a_process_left_running_fails_the_session(pytester: pytest.Pytester) -> None:
    got = _session(pytester, '''
import subprocess, warnings
LEAK = []

def test_starts_a_sleeper():
    LEAK.append(subprocess.Popen(["sleep", "30"]))
    assert True
''')
    pids = [int(p) for p in re.findall(r"pid (\d+) \(\w+\): sleep 30", got.stdout.str())]
    for pid in pids:  # ours to end: the sleeper the inner session left
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert got.ret == 1
    got.stdout.fnmatch_lines(["*LEFT:*sleep 30*"])
    assert len(pids) == 1


def test_a_session_that_waits_for_its_processes_passes(pytester: pytest.Pytester) -> None:
    got = _session(pytester, '''
import subprocess

def test_runs_and_waits():
    subprocess.run(["true"], check=True)
''')
    assert got.ret == 0
