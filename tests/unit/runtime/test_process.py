from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

from pfdrill.runtime import process


def test_cri_line_format() -> None:
    when = dt.datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=dt.UTC)
    assert process.cri_line("stdout", "hello\n", when) == "2026-11-28T12:00:00.123456000Z stdout F hello\n"


def test_crashing_process_is_restarted_with_count_and_logs(tmp_path: Path, monkeypatch: object) -> None:
    # A real child process that prints and exits: the supervisor must restart it.
    monkeypatch.setattr(process, "BACKOFF_START", 0.05)  # type: ignore[attr-defined]
    restarts: list[int] = []
    proc = process.ContainerProcess(
        "t", [sys.executable, "-c", "print('started'); import sys; sys.exit(3)"], {}, tmp_path,
        tmp_path / "c.log", on_restart=restarts.append)
    proc.start()
    deadline = time.monotonic() + 10
    while len(restarts) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.stop()
    assert restarts[:2] == [1, 2]
    text = (tmp_path / "c.log").read_text()
    assert " stdout F started" in text and "exited with status 3" in text


def test_stop_terminates_a_long_running_process(tmp_path: Path) -> None:
    proc = process.ContainerProcess("t", [sys.executable, "-c", "import time; time.sleep(60)"], {},
                                    tmp_path, tmp_path / "c.log", grace_seconds=2)
    proc.start()
    deadline = time.monotonic() + 5
    while proc.pid is None and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = proc.pid
    assert pid is not None
    proc.stop()
    assert proc.pid is None
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]
