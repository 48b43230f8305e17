"""The live journal: a drill's lifecycle as JSON lines, so a live view in another process can follow it.

:class:`LiveJournal` is a drill observer: every lifecycle call becomes one
:class:`~pfdrill.model.live.LiveEvent` appended to ``<dir>/<run-id>.jsonl``
(``<state>/live`` by default), redacted like the reports. ``pfdrill drill
run`` and ``pfdrill gameday run`` attach one; ``pfdrill dashboard`` follows
the directory with :class:`JournalTail`. A line is appended with one
``write`` on a file opened for appending, so a reader never sees half of one
from two writers; the tail only hands out lines that end in a newline.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pfdrill.drill.observer import BaseObserver
from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import RestoreRecord
from pfdrill.model.header import RecordHeader
from pfdrill.model.live import LiveEvent, LiveKind
from pfdrill.model.result import DrillResult
from pfdrill.model.timeline import Phase, PhaseRecord, TimelineEvent
from pfdrill.report.redact import Redactor
from pfdrill.settings.paths import Paths

SUFFIX = ".jsonl"


def directory(paths: Paths | None = None) -> Path:
    return (paths or Paths.from_env()).state / "live"


class LiveJournal(BaseObserver):
    """Appends every lifecycle call of the drills it observes to the run's journal."""

    def __init__(self, directory: Path, *, run_id: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.run_id = run_id
        self._clock = clock
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.directory / f"{self.run_id}{SUFFIX}"

    def redact(self, secrets: tuple[str, ...]) -> None:
        self._secrets = tuple(dict.fromkeys((*self._secrets, *secrets)))

    def publish(self, event: LiveEvent) -> None:
        """Append one event (the game day publishes its own through here too)."""
        if not event.run_id:
            return
        data = Redactor(self._secrets).tree(event.to_dict())
        line = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
        path = self.directory / f"{event.run_id}{SUFFIX}"
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)

    def _event(self, kind: LiveKind, drill: DrillSpec, **fields: Any) -> LiveEvent:
        base = LiveEvent(wall=self._clock(), run_id=self.run_id, kind=kind, drill=drill.name)
        return dataclasses.replace(base, **fields)

    def started(self, header: RecordHeader, spec: DrillSpec, run_id: str) -> None:
        self.run_id = run_id
        self.publish(self._event(LiveKind.DRILL_STARTED, spec, spec=spec,
                                 started_wall=header.started_at))

    def phase_started(self, spec: DrillSpec, phase: Phase, budget_s: float) -> None:
        self.publish(self._event(LiveKind.PHASE_STARTED, spec, phase=phase, budget_s=budget_s))

    def event(self, spec: DrillSpec, event: TimelineEvent) -> None:
        self.publish(self._event(LiveKind.EVENT, spec, event=event, phase=event.phase))

    def phase_completed(self, spec: DrillSpec, record: PhaseRecord) -> None:
        self.publish(self._event(LiveKind.PHASE_COMPLETED, spec, phase=record.phase,
                                 record=record))

    def restored(self, spec: DrillSpec, record: RestoreRecord) -> None:
        self.publish(self._event(LiveKind.RESTORED, spec, restore=record))

    def finished(self, result: DrillResult) -> None:
        self.publish(self._event(LiveKind.DRILL_FINISHED, result.spec,
                                 verdict=result.verdict.value, headline=result.headline(),
                                 measures=result.measures))


def whole_lines(path: Path, offset: int) -> tuple[list[bytes], int]:
    """The complete lines appended to ``path`` since ``offset``, and the offset after them.

    A line still being written (no newline yet) stays for the next call."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(), offset + end


class JournalTail:
    """New events of every journal in a directory, in the order they were appended.

    The first :meth:`read` hands out the newest journal whole (the run a view
    opens on) and only what is appended to older ones from then on; with
    ``run_id``, only that run's journal, whole.
    """

    def __init__(self, directory: Path, *, run_id: str | None = None) -> None:
        self.directory = directory
        self._only = f"{run_id}{SUFFIX}" if run_id else None  # follow one run's journal
        self._offsets: dict[Path, int] = {}
        self._started = False

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        found = [p for p in self.directory.glob(f"*{SUFFIX}")
                 if self._only is None or p.name == self._only]
        return sorted(found, key=lambda p: p.stat().st_mtime)

    def read(self) -> list[LiveEvent]:
        files = self._files()
        if not self._started:
            self._started = True
            for p in files[:-1]:
                self._offsets[p] = p.stat().st_size
        out: list[LiveEvent] = []
        for path in files:
            out.extend(self._read(path))
        return out

    def _read(self, path: Path) -> Iterable[LiveEvent]:
        lines, self._offsets[path] = whole_lines(path, self._offsets.get(path, 0))
        events = []
        for line in lines:
            try:
                events.append(LiveEvent.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue  # a line from another pfdrill version: not ours to show
        return events
