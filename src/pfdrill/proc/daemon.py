"""Detached processes with pidfiles: start once, find again, stop for sure.

A daemon is spawned in its own session (``posix_spawn`` with ``setsid``), so it
outlives the CLI call that started it and a terminal's Ctrl-C does not reach
it. Its pidfile records the kernel's start time of the process too, so a pid
reused by an unrelated process is never mistaken for it (nor killed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pfdrill.errors import EnvironmentProblem
from pfdrill.proc import lineage


def _stat(pid: int) -> tuple[str, int] | None:
    """``(state, start time in clock ticks)`` of a live process, from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
    return fields[0], int(fields[19])


@dataclasses.dataclass(frozen=True)
class Daemon:
    """One named daemon whose pidfile and log live in ``directory``."""

    name: str
    directory: Path

    @property
    def pidfile(self) -> Path:
        return self.directory / f"{self.name}.pid"

    @property
    def log(self) -> Path:
        return self.directory / f"{self.name}.log"

    def recorded(self) -> int | None:
        """The pid the pidfile names, running or not."""
        try:
            return int(json.loads(self.pidfile.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def pid(self) -> int | None:
        """The daemon's pid if it is running, else ``None`` (stale pidfiles are ignored)."""
        try:
            recorded = json.loads(self.pidfile.read_text())
            pid, started = int(recorded["pid"]), int(recorded["start_ticks"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        stat = _stat(pid)
        if stat is None or stat[1] != started:
            return None
        if stat[0] == "Z":  # exited; reap it if it is our own child
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            return None
        return pid

    def start(self, argv: Sequence[str], env: dict[str, str] | None = None) -> int:
        """Spawn ``argv`` detached unless it already runs; return its pid."""
        running = self.pid()
        if running is not None:
            return running
        self.directory.mkdir(parents=True, exist_ok=True)
        log_fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null_fd = os.open(os.devnull, os.O_RDONLY)
        try:
            pid = os.posix_spawn(
                # a daemon outlives the run that started it: not that run's to stop
                argv[0], list(argv), lineage.detached(env if env is not None else os.environ),
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, null_fd, 0),
                    (os.POSIX_SPAWN_DUP2, log_fd, 1),
                    (os.POSIX_SPAWN_DUP2, log_fd, 2),
                ],
                setsid=True,
            )
        except OSError as exc:
            raise EnvironmentProblem(f"cannot start {self.name} ({argv[0]}): {exc}") from exc
        finally:
            os.close(log_fd)
            os.close(null_fd)
        stat = _stat(pid)
        record = {"pid": pid, "start_ticks": stat[1] if stat else 0, "argv": list(argv)}
        tmp = self.pidfile.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, self.pidfile)
        return pid

    def stop(self, timeout: float = 10.0, *, group: bool = True) -> bool:
        """SIGTERM it, SIGKILL its process group after ``timeout``; True if it was running.

        ``group=False`` sends the SIGTERM to the process alone, for daemons that stop
        their own children in order (the runtime stops its pods) — SIGKILL still
        takes the whole group if it lingers.
        """
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                if sig is signal.SIGTERM and not group:
                    os.kill(pid, sig)
                else:
                    os.killpg(pid, sig)  # its own session: the group is it and its children
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self.pid() == pid:
                time.sleep(0.05)
            if self.pid() != pid:
                break
        self.pidfile.unlink(missing_ok=True)
        return True

    def tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return ""

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``ready`` until true; fail early (with the log's tail) if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if self.pid() is None:
                raise EnvironmentProblem(f"{self.name} exited while starting: {self.tail()}")
            time.sleep(0.05)
        raise EnvironmentProblem(f"{self.name} not {what} after {timeout:g}s: {self.tail()}")
