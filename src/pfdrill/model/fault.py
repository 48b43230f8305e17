"""What a fault's own probe saw: shared by the fault catalog and the drill engine."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class FaultObservation:
    """Whether the fault is observed in effect (by the fault's own probe, not an alert)."""

    proven: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FaultObservation:
        return cls(bool(d["proven"]), str(d["detail"]))
