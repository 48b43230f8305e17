"""Terminal progress while a drill runs: the phase, its elapsed time against its budget.

On a terminal a ticker rewrites the current line every second
(``  detect       12.0 s / 45 s ▕████░░░░░░▏``); into a file or a CI log only
the start and end of each phase are printed, one line each.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

from pfdrill.drill.observer import BaseObserver
from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import RestoreRecord
from pfdrill.model.header import RecordHeader
from pfdrill.model.result import DrillResult
from pfdrill.model.timeline import Phase, PhaseRecord, PhaseStatus

_MARK = {PhaseStatus.PASSED: "✓", PhaseStatus.FAILED: "✗", PhaseStatus.ERROR: "!",
         PhaseStatus.SKIPPED: "-"}


def _bar(elapsed: float, budget: float, width: int = 12) -> str:
    filled = min(width, int(width * elapsed / budget)) if budget > 0 else width
    return "▕" + "█" * filled + "░" * (width - filled) + "▏"


class ProgressPrinter(BaseObserver):
    def __init__(self, stream: TextIO, *, live: bool | None = None) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def _print(self, text: str) -> None:
        with self._lock:
            if self.live:
                self.stream.write("\r\x1b[2K")
            self.stream.write(text + "\n")
            self.stream.flush()

    def started(self, header: RecordHeader, spec: DrillSpec, run_id: str) -> None:
        self._print(f"▶ {spec.name}: {spec.fault.describe()} → expect "
                    f"{spec.expected_severity.value} ({', '.join(spec.expected_alerts)})")

    def phase_started(self, spec: DrillSpec, phase: Phase, budget_s: float) -> None:
        self._stop_ticker()
        if not self.live:
            return
        start = time.monotonic()
        self._stop.clear()

        def tick() -> None:
            while not self._stop.wait(1.0):
                elapsed = time.monotonic() - start
                with self._lock:
                    self.stream.write(f"\r\x1b[2K  {phase.value:<10} {elapsed:6.1f} s / "
                                      f"{budget_s:g} s {_bar(elapsed, budget_s)}")
                    self.stream.flush()

        self._ticker = threading.Thread(target=tick, name="pfdrill-progress", daemon=True)
        self._ticker.start()

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None

    def phase_completed(self, spec: DrillSpec, record: PhaseRecord) -> None:
        self._stop_ticker()
        judged = "" if record.measured_s is None or record.measured_s == record.duration_s \
            else f" (judged {record.measured_s:.1f} s)"
        tail = f"  {record.reason}" if record.reason and not record.status.ok else ""
        self._print(f"  {_MARK[record.status]} {record.phase.value:<10} "
                    f"{record.duration_s:6.1f} s / {record.budget_s:g} s{judged}{tail}")

    def restored(self, spec: DrillSpec, record: RestoreRecord) -> None:
        if record.stale:
            self._print(f"  ↺ restored first what a killed run left ({record.reason}): "
                        f"{'; '.join(record.actions) or 'nothing differed'}")

    def finished(self, result: DrillResult) -> None:
        self._stop_ticker()
        m = result.measures
        figures = ", ".join(f"{k} {v:.1f} s" for k, v in m.items() if v is not None)
        self._print(f"■ {result.headline()}" + (f"  [{figures}]" if figures else ""))
