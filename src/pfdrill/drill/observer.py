"""Observers of the drill lifecycle, and the fan-out that keeps one broken observer harmless.

Report writers, the terminal progress display, the history store and the
pytest-bdd bridge all implement :class:`DrillObserver`. They are told, in
order: ``redact`` (the values the environment knows to be secret, so a
writer can keep them out of every artifact), ``started``, then
``phase_started``/``phase_completed`` per phase, ``restored`` and ``finished``;
``event`` for every timeline event as it is recorded (a live view follows a
drill with it: the injection, each alert, each runbook command). An observer that raises is logged and skipped
for that call; it never changes a drill's verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import RestoreRecord
from pfdrill.model.header import RecordHeader
from pfdrill.model.observer import BaseObserver, DrillObserver
from pfdrill.model.result import DrillResult
from pfdrill.model.timeline import Phase, PhaseRecord, TimelineEvent

__all__ = ["BaseObserver", "DrillObserver", "Observers"]

log = logging.getLogger(__name__)


class Observers:
    """Calls every observer; a failing one is logged, never fatal."""

    def __init__(self, observers: Iterable[DrillObserver] = ()) -> None:
        self._observers = list(observers)
        self.failures: list[str] = []

    def add(self, observer: DrillObserver) -> None:
        self._observers.append(observer)

    def _each(self, event: str, *args: object) -> None:
        for obs in self._observers:
            try:
                getattr(obs, event)(*args)
            except Exception as exc:
                # Reporting must not decide a drill: note it and carry on.
                msg = f"observer {type(obs).__name__}.{event} failed: {exc}"
                log.warning(msg, exc_info=True)
                self.failures.append(msg)

    def redact(self, secrets: tuple[str, ...]) -> None:
        self._each("redact", secrets)

    def started(self, header: RecordHeader, spec: DrillSpec, run_id: str) -> None:
        self._each("started", header, spec, run_id)

    def phase_started(self, spec: DrillSpec, phase: Phase, budget_s: float) -> None:
        self._each("phase_started", spec, phase, budget_s)

    def event(self, spec: DrillSpec, event: TimelineEvent) -> None:
        self._each("event", spec, event)

    def phase_completed(self, spec: DrillSpec, record: PhaseRecord) -> None:
        self._each("phase_completed", spec, record)

    def restored(self, spec: DrillSpec, record: RestoreRecord) -> None:
        self._each("restored", spec, record)

    def finished(self, result: DrillResult) -> None:
        self._each("finished", result)
