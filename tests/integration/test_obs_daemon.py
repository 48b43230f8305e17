"""Detached processes: found again by pidfile, never confused with a reused pid, stopped for sure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pfdrill.errors import EnvironmentProblem
from pfdrill.proc.daemon import Daemon

pytestmark = pytest.mark.servers

SLEEP = shutil.which("sleep") or "/bin/sleep"


def test_start_is_idempotent_and_stop_ends_the_process(tmp_path: Path) -> None:
    d = Daemon("sleeper", tmp_path)
    pid = d.start([SLEEP, "300"])
    assert d.start([SLEEP, "300"]) == pid
    assert d.pid() == pid and Path(f"/proc/{pid}").exists()
    assert d.stop() is True
    assert d.pid() is None and not Path(f"/proc/{pid}").exists()
    assert not d.pidfile.exists()
    assert d.stop() is False


def test_a_reused_pid_is_not_ours(tmp_path: Path) -> None:
    d = Daemon("sleeper", tmp_path)
    pid = d.start([SLEEP, "300"])
    try:
        record = json.loads(d.pidfile.read_text())
        record["start_ticks"] += 1  # as if the pid now belonged to a process started later
        d.pidfile.write_text(json.dumps(record))
        assert d.pid() is None
        assert d.stop() is False  # and it is not killed
        assert Path(f"/proc/{pid}").exists()
    finally:
        d.pidfile.write_text(json.dumps({**record, "start_ticks": record["start_ticks"] - 1}))
        d.stop()


def test_a_process_that_dies_while_starting_reports_its_log(tmp_path: Path) -> None:
    d = Daemon("faulty", tmp_path)
    d.start(["/bin/sh", "-c", "echo cannot bind 127.0.0.1:1 >&2; exit 1"])
    with pytest.raises(EnvironmentProblem, match="faulty exited while starting: cannot bind"):
        d.wait_until(lambda: False, 10, "ready")


def test_an_unstartable_binary_is_an_environment_problem(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="cannot start nothing"):
        Daemon("nothing", tmp_path).start([str(tmp_path / "no-such-binary")])
