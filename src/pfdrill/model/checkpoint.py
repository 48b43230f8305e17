"""A running drill written down, so that a successor process can take it over.

A game day runs for hours with people in the loop; if its process dies the
inject must go on — with the same clock — and still be restored in the end.
:class:`Checkpoint` holds what the recorder knows (origin, timeline, phase
records, what each phase found) and what the drill holds on the cluster
(lease, snapshot, armed fault). Phase results are a union, so each is kept
with the name of its type (:class:`FoundRecord`).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from pfdrill.model.codec import Record
from pfdrill.model.header import RecordHeader
from pfdrill.model.phases import PhaseResult
from pfdrill.model.timeline import PhaseRecord, TimelineEvent

PHASE_RESULTS: dict[str, type[Record]] = {cls.__name__: cls
                                          for cls in typing.get_args(PhaseResult)}


@dataclasses.dataclass(frozen=True)
class FoundRecord(Record):
    """One phase result, tagged with its type so it decodes back to the same record."""

    kind: str
    data: dict[str, Any]

    @classmethod
    def of(cls, found: PhaseResult) -> FoundRecord:
        return cls(kind=type(found).__name__, data=found.to_dict())

    def record(self) -> PhaseResult:
        if self.kind not in PHASE_RESULTS:
            raise ValueError(f"unknown phase record {self.kind!r} in a checkpoint")
        found = PHASE_RESULTS[self.kind].from_dict(self.data)
        return typing.cast(PhaseResult, found)


@dataclasses.dataclass(frozen=True)
class Checkpoint(Record):
    run_id: str
    drill: str
    incident_id: str
    holder: str  # the lease holder identity of the process that wrote it
    header: RecordHeader
    t0_wall: str  # the drill's wall-clock origin (ISO-8601 UTC)
    t0_monotonic: float  # its monotonic origin: valid while the machine has not rebooted
    boot_id: str  # which boot t0_monotonic belongs to
    timeline: tuple[TimelineEvent, ...] = ()
    phases: tuple[PhaseRecord, ...] = ()
    found: tuple[FoundRecord, ...] = ()
    lease_held: bool = False
    snapshot_held: bool = False
    fault_armed: bool = False
    written_wall: str = ""
