"""Security labels and the non-interference (NI) monitor.

The lattice is a chain: ``public ≤ internal ≤ confidential ≤ secret``.
Information may flow only upwards (or stay level): a flow from a higher
label to a lower one would let secret data reach a less trusted sink, so the
monitor rejects it. The principal's clearance (from its certificate) must
also dominate the source label: nobody reads above their clearance.
"""

from __future__ import annotations

import dataclasses
import enum


class Label(enum.Enum):
    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"

    @property
    def level(self) -> int:
        return _ORDER.index(self)

    def dominates(self, other: Label) -> bool:
        """True when ``other ≤ self`` in the lattice."""
        return self.level >= other.level

    @classmethod
    def parse(cls, text: object) -> Label:
        """The label named by ``text``; ValueError naming the choices otherwise."""
        if isinstance(text, str):
            for member in cls:
                if member.value == text.strip().lower():
                    return member
        choices = ", ".join(m.value for m in _ORDER)
        raise ValueError(f"unknown security label {text!r} (expected one of {choices})")


_ORDER = (Label.PUBLIC, Label.INTERNAL, Label.CONFIDENTIAL, Label.SECRET)


@dataclasses.dataclass(frozen=True)
class Flow:
    """Where the data of one request comes from and where it goes."""

    source: Label
    destination: Label

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source.value, "destination": self.destination.value}

    @classmethod
    def from_dict(cls, data: object) -> Flow:
        if not isinstance(data, dict):
            raise ValueError("labels must be an object with 'source' and 'destination'")
        return cls(Label.parse(data.get("source")), Label.parse(data.get("destination")))


def ni_violation(flow: Flow, clearance: Label) -> str | None:
    """The rule a flow breaks, or None when it is allowed."""
    if not clearance.dominates(flow.source):
        return f"ni:clearance {clearance.value}<{flow.source.value}"
    if not flow.destination.dominates(flow.source):
        return f"ni:flow {flow.source.value}->{flow.destination.value}"
    return None
