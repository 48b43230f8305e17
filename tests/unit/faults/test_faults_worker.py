"""Background workers are found by their token and only they are ever signalled."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pfdrill.errors import EnvironmentProblem
from pfdrill.faults import worker
from pfdrill.faults.change import Worker


def _sleeper(token: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time, sys; time.sleep(60)", token],
                            start_new_session=True)


def test_stop_signals_only_the_process_carrying_the_token() -> None:
    token = worker.new_token("test")
    proc = _sleeper(token)
    other = _sleeper(worker.new_token("other"))
    try:
        w = Worker(role="test", token=token, pid=proc.pid)
        assert worker.alive(w)
        # Same pid, different token: a recycled pid is left alone.
        assert not worker.stop(Worker(role="test", token="pfdrill-test-nope", pid=other.pid))
        assert other.poll() is None
        assert worker.stop(w, timeout_s=5)
        assert proc.wait(timeout=5) is not None
        assert not worker.alive(w)
        assert not worker.stop(w)  # idempotent
    finally:
        other.kill()
        other.wait()


def test_a_worker_recorded_before_its_pid_is_found_by_token() -> None:
    token = worker.new_token("test")
    proc = _sleeper(token)
    recorded = Worker(role="test", token=token, pid=0)
    try:
        # Until the child has exec'ed, its command line is still ours and carries no token.
        deadline = time.monotonic() + 10
        while not worker.alive(recorded) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert worker.stop(recorded, timeout_s=5)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)


def test_a_worker_that_cannot_start_reports_why(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="pod_killer worker failed to start"):
        worker.spawn("pod_killer", worker.new_token("pod_killer"), tmp_path / "w",
                     {"kubeconfig": str(tmp_path / "missing"), "context": "x", "namespace": "n",
                      "selector": "app=x", "max_seconds": 30}, "test", wait_s=30)
    status = worker.read_status(tmp_path / "w")
    assert "kubeconfig" in status.get("error", "")
