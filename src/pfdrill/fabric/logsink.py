"""Where the fabric's log lines go: stdout, synchronously or through a writer thread.

stdout is what ``kubectl logs`` serves (the process runtime and real kubelets
both capture it). With ``async_processing`` on, lines are queued and a
background thread writes up to ``batch_size`` of them per write call, taking
the write off the request path.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import TextIO

from pfdrill.fabric.logline import LogLine

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


class LogSink:
    def __init__(self, stream: TextIO | None = None, level: str = "INFO") -> None:
        self.stream = stream or sys.stdout
        self.threshold = LEVELS[level]
        self.batch_size = 100
        self._queue: queue.SimpleQueue[str | None] | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def set_level(self, level: str) -> None:
        self.threshold = LEVELS[level]

    def emit(self, line: LogLine) -> None:
        if LEVELS.get(line.level, 40) < self.threshold:
            return
        text = line.render() + "\n"
        q = self._queue
        if q is not None:
            q.put(text)
            return
        with self._lock:
            self.stream.write(text)
            self.stream.flush()

    def set_async(self, enabled: bool, batch_size: int) -> None:
        self.batch_size = batch_size
        if enabled and self._queue is None:
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._drain, args=(self._queue,),
                                            name="log-writer", daemon=True)
            self._thread.start()
        elif not enabled and self._queue is not None:
            self.close()

    def close(self) -> None:
        """Stop the writer thread after it has written everything queued."""
        q, t = self._queue, self._thread
        self._queue, self._thread = None, None
        if q is not None and t is not None:
            q.put(None)
            t.join(timeout=5)

    def _drain(self, q: queue.SimpleQueue[str | None]) -> None:
        while True:
            item = q.get()
            batch, done = [], item is None
            if item is not None:
                batch.append(item)
            while not done and len(batch) < self.batch_size:
                try:
                    nxt = q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    done = True
                else:
                    batch.append(nxt)
            if batch:
                with self._lock:
                    self.stream.write("".join(batch))
                    self.stream.flush()
            if done:
                return
