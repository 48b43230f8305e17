"""One container's process: start, log in CRI format, restart with back-off, stop.

Logs are written in the CRI container-log format kwok's ``Logs`` CRD serves to
``kubectl logs`` (``<RFC3339Nano> <stream> F <line>``), so ``--since`` and
``-f`` work as on a real node.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from pfdrill.proc import lineage

log = logging.getLogger(__name__)

BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
BACKOFF_RESET_AFTER = 60.0  # seconds of healthy uptime that forgive earlier crashes


def cri_line(stream: str, line: str, now: dt.datetime | None = None) -> str:
    ts = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    return f"{ts} {stream} F {line.rstrip(chr(10))}\n"


class _LogPump(threading.Thread):
    def __init__(self, pipe: IO[bytes], stream: str, sink: IO[str], lock: threading.Lock) -> None:
        super().__init__(daemon=True, name=f"log-{stream}")
        self.pipe, self.stream, self.sink, self.lock = pipe, stream, sink, lock

    def run(self) -> None:
        for raw in iter(self.pipe.readline, b""):
            text = raw.decode("utf-8", errors="replace")
            with self.lock:
                if self.sink.closed:  # the container was stopped while its output drained
                    break
                self.sink.write(cri_line(self.stream, text))
                self.sink.flush()
        self.pipe.close()


class ContainerProcess:
    """Keeps one container command running until :meth:`stop`, as its pod's restartPolicy says.

    ``Always`` (Deployments) restarts every exit with back-off; ``OnFailure`` stops
    after an exit 0; ``Never`` (Jobs, CronJobs) after any exit: :attr:`finished`
    is then set and :attr:`last_exit` holds the status.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        log_file: Path,
        *,
        on_restart: Callable[[int], None] | None = None,
        grace_seconds: float = 10.0,
        restart_policy: str = "Always",
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_file = log_file
        self.on_restart = on_restart
        self.grace_seconds = grace_seconds
        self.restart_policy = restart_policy
        self.restarts = 0
        self.last_exit: int | None = None
        self.finished = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._sink: IO[str] | None = None
        self._thread = threading.Thread(target=self._supervise, daemon=True, name=f"proc-{name}")
        self.started_at = 0.0

    @property
    def pid(self) -> int | None:
        p = self._proc
        return p.pid if p is not None and p.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._sink = self.log_file.open("a", encoding="utf-8")
        self._thread.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=lineage.die_with_parent,  # gone with the runtime
            start_new_session=True,
        )
        assert proc.stdout is not None and proc.stderr is not None and self._sink is not None
        _LogPump(proc.stdout, "stdout", self._sink, self._log_lock).start()
        _LogPump(proc.stderr, "stderr", self._sink, self._log_lock).start()
        return proc

    def _note(self, text: str) -> None:
        if self._sink is not None:
            with self._log_lock:
                self._sink.write(cri_line("stderr", f"[pfdrill runtime] {text}"))
                self._sink.flush()

    def _supervise(self) -> None:
        backoff = BACKOFF_START
        while not self._stop.is_set():
            with self._lock:
                if self._stop.is_set():
                    break
                try:
                    self._proc = self._spawn()
                except OSError as exc:
                    self._proc = None
                    self._note(f"cannot start {self.argv[0]}: {exc}")
                    log.error("container %s: cannot start %s: %s", self.name, self.argv[0], exc)
            self.started_at = time.monotonic()
            code = self._proc.wait() if self._proc is not None else 127
            self.last_exit = code
            if self._stop.is_set():
                break
            if self.restart_policy == "Never" or (self.restart_policy == "OnFailure"
                                                  and code == 0):
                self._note(f"process exited with status {code} (restartPolicy "
                           f"{self.restart_policy}: not restarted)")
                self.finished = True
                break
            if time.monotonic() - self.started_at > BACKOFF_RESET_AFTER:
                backoff = BACKOFF_START
            self._note(f"process exited with status {code}; restarting in {backoff:.0f}s")
            if self._stop.wait(backoff):
                break
            backoff = min(backoff * 2, BACKOFF_MAX)
            self.restarts += 1
            if self.on_restart is not None:
                try:
                    self.on_restart(self.restarts)
                except Exception:  # reporting a restart must never kill the supervisor
                    log.exception("restart callback failed for %s", self.name)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace period; waits for the process to go."""
        self._stop.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=self.grace_seconds)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._sink is not None:
            with self._log_lock:
                self._sink.close()
            self._sink = None
