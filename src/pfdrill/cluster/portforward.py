"""``kubectl port-forward`` to a Service, managed: how an operator reaches the fabric anywhere.

On a real cluster nothing but the API server is reachable from an operator's
machine; ``kubectl port-forward svc/<name> :<port>`` tunnels through it. pfctl
and pfdrill use this when no direct address is configured (the kwok process
runtime's local Service proxy is a shortcut, not a requirement). The forward
binds 127.0.0.1 on a free port, is stopped by :meth:`PortForward.close` (also
at interpreter exit), and dies with its parent if that is killed.
"""

from __future__ import annotations

import atexit
import re
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType

from pfdrill.errors import ClusterError
from pfdrill.proc import lineage

_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+)")
START_TIMEOUT_S = 20.0


class PortForward:
    """One ``kubectl port-forward`` process; :attr:`address` is ``127.0.0.1:<port>``."""

    def __init__(self, kubectl: str, kubeconfig: str | Path | None, context: str | None,
                 namespace: str, target: str, remote_port: int | str) -> None:
        self.argv = [kubectl]
        if kubeconfig:
            self.argv += ["--kubeconfig", str(kubeconfig)]
        if context:
            self.argv += ["--context", context]
        self.argv += ["-n", namespace, "port-forward", "--address", "127.0.0.1", target,
                      f":{remote_port}"]
        self.target = f"{namespace}/{target}:{remote_port}"
        self.address = ""
        self._proc: subprocess.Popen[str] | None = None
        self._drain: threading.Thread | None = None
        self._output: list[str] = []

    def start(self, timeout_s: float = START_TIMEOUT_S) -> str:
        if self._proc is not None:
            return self.address
        try:
            self._proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True, preexec_fn=lineage.die_with_parent)
        except OSError as exc:
            raise ClusterError(f"kubectl port-forward {self.target}: {exc}") from exc
        atexit.register(self.close)
        found = threading.Event()

        def drain() -> None:
            # kubectl prints a line per connection: keep reading, or the pipe fills and blocks it
            assert self._proc is not None and self._proc.stdout is not None
            for line in self._proc.stdout:
                if len(self._output) < 50:
                    self._output.append(line.rstrip())
                m = _FORWARDING.search(line)
                if m and not self.address:
                    self.address = f"127.0.0.1:{m.group(1)}"
                    found.set()
            found.set()

        self._drain = threading.Thread(target=drain, name=f"port-forward {self.target}",
                                       daemon=True)
        self._drain.start()
        deadline = time.monotonic() + timeout_s
        while not found.wait(0.1):
            if time.monotonic() >= deadline:
                break
        if not self.address:
            said = " / ".join(self._output[-3:]) or "no output"
            self.close()
            raise ClusterError(f"kubectl port-forward {self.target} did not start: {said}")
        return self.address

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.close)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._drain is not None:
            self._drain.join(timeout=5)  # the process is gone: its output ends
        if proc.stdout is not None:
            proc.stdout.close()
        self.address = ""

    def __enter__(self) -> PortForward:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
