"""What an observer of the drill lifecycle is told, and a no-op base to inherit from.

Report writers, the terminal progress display, the history store and the
pytest-bdd bridge all implement :class:`DrillObserver`; the fan-out that calls
them is :class:`pfdrill.drill.observer.Observers`. It lives in ``model`` so that
layers below ``drill`` (the history store, the report writers) implement it too.
"""

from __future__ import annotations

from typing import Protocol

from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import RestoreRecord
from pfdrill.model.header import RecordHeader
from pfdrill.model.result import DrillResult
from pfdrill.model.timeline import Phase, PhaseRecord, TimelineEvent


class DrillObserver(Protocol):
    def redact(self, secrets: tuple[str, ...]) -> None: ...

    def started(self, header: RecordHeader, spec: DrillSpec, run_id: str) -> None: ...

    def phase_started(self, spec: DrillSpec, phase: Phase, budget_s: float) -> None: ...

    def event(self, spec: DrillSpec, event: TimelineEvent) -> None: ...

    def phase_completed(self, spec: DrillSpec, record: PhaseRecord) -> None: ...

    def restored(self, spec: DrillSpec, record: RestoreRecord) -> None: ...

    def finished(self, result: DrillResult) -> None: ...


class BaseObserver:
    """No-op implementations to inherit from when only some events matter."""

    def redact(self, secrets: tuple[str, ...]) -> None:
        return None

    def started(self, header: RecordHeader, spec: DrillSpec, run_id: str) -> None:
        return None

    def phase_started(self, spec: DrillSpec, phase: Phase, budget_s: float) -> None:
        return None

    def event(self, spec: DrillSpec, event: TimelineEvent) -> None:
        return None

    def phase_completed(self, spec: DrillSpec, record: PhaseRecord) -> None:
        return None

    def restored(self, spec: DrillSpec, record: RestoreRecord) -> None:
        return None

    def finished(self, result: DrillResult) -> None:
        return None
