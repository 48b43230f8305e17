"""Incident severity levels, ordered from most to least severe."""

from __future__ import annotations

import enum
import functools


@functools.total_ordering
class Severity(enum.Enum):
    """SEV-1 (critical) .. SEV-4 (low), plus NONE for "no incident".

    Ordering follows badness: ``Severity.SEV1 > Severity.SEV2 > ... > Severity.NONE``.
    """

    SEV1 = "SEV-1"
    SEV2 = "SEV-2"
    SEV3 = "SEV-3"
    SEV4 = "SEV-4"
    NONE = "none"

    @property
    def rank(self) -> int:
        """4 for SEV-1 down to 0 for NONE: larger is worse."""
        return {"SEV-1": 4, "SEV-2": 3, "SEV-3": 2, "SEV-4": 1, "none": 0}[self.value]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Accept 'SEV-1', 'sev1', 'SEV1', '1', 'none'; raise ValueError otherwise."""
        t = text.strip().upper().replace("_", "-")
        if t in ("NONE", "NO-INCIDENT", ""):
            return cls.NONE
        if t.isdigit():
            t = f"SEV-{t}"
        if t.startswith("SEV") and not t.startswith("SEV-"):
            t = "SEV-" + t[3:]
        for member in cls:
            if member.value == t:
                return member
        raise ValueError(f"unknown severity {text!r}: expected SEV-1, SEV-2, SEV-3, SEV-4 or none")
