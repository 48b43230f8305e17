"""The detection edge: which fault size to try next, and when the search is done.

``pfdrill sensitivity`` injects a fault at one size after another, each
detected within the SLA or not, and looks for the smallest size detected and
the largest missed. Every injection costs minutes on a live stack, so the
search starts where the bound theory puts the edge (``predicted``) and
brackets it tightly: first just above (``+step``), then — only if that was
detected — just below. A bracket is then halved (geometric mean, sizes being
ratios and percentages) until it is narrower than ``resolution``. Without a
bracket it widens by halving or doubling. Detection is taken to grow with the
size; a miss above a detection (noise at the edge) ends the search.
Pure logic, no I/O.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class Limits:
    """The fault parameter's range (from its :class:`~pfdrill.faults.params.Param`)."""

    low: float
    high: float
    low_open: bool = True

    def allows(self, size: float) -> bool:
        above = size > self.low if self.low_open else size >= self.low
        return above and size <= self.high

    def clip(self, size: float) -> float:
        return min(self.high, size)

    @property
    def lowest(self) -> float:
        """The smallest positive size the range allows (a hair above an open low end)."""
        low = max(self.low, 0.0)
        return low + max(low, 1.0) * 1e-9 if self.low_open or low == 0 else low


@dataclasses.dataclass(frozen=True)
class Bracket:
    largest_missed: float | None
    smallest_detected: float | None

    @property
    def closed(self) -> bool:
        return self.largest_missed is not None and self.smallest_detected is not None

    @property
    def consistent(self) -> bool:
        """False when something was missed at or above a detected size."""
        return not self.closed or (self.largest_missed or 0.0) < (self.smallest_detected or 0.0)

    @property
    def width(self) -> float | None:
        """Relative width ``(detected - missed) / detected``; None while open."""
        if not self.closed or not self.smallest_detected:
            return None
        return ((self.smallest_detected or 0.0) - (self.largest_missed or 0.0)) / self.smallest_detected


def bracket(trials: Sequence[tuple[float, bool]]) -> Bracket:
    """From ``(size, detected)`` trials: the largest size missed, the smallest detected."""
    missed = [s for s, d in trials if not d]
    detected = [s for s, d in trials if d]
    return Bracket(max(missed) if missed else None, min(detected) if detected else None)


def next_size(trials: Sequence[tuple[float, bool]], predicted: float, limits: Limits, *,
              step: float = 0.1, resolution: float = 0.05) -> float | None:
    """The size to try next, or ``None`` when the edge is found (or cannot be)."""
    tried = {round(s, 12) for s, _ in trials}

    def fresh(size: float) -> float | None:
        size = limits.clip(size)
        return size if limits.allows(size) and round(size, 12) not in tried else None

    if not trials:
        return fresh(predicted * (1 + step)) or fresh(predicted)
    b = bracket(trials)
    if not b.consistent:
        return None
    if b.closed:
        assert b.largest_missed is not None and b.smallest_detected is not None
        if (b.width or 0.0) <= resolution:
            return None
        low = b.largest_missed
        mid = math.sqrt(low * b.smallest_detected) if low > 0 else b.smallest_detected / 2
        return fresh(mid)
    if b.smallest_detected is not None:  # only detections: go down
        below = predicted * (1 - step)
        if below < b.smallest_detected and round(below, 12) not in tried:
            return fresh(below)
        return fresh(b.smallest_detected / 2)
    assert b.largest_missed is not None  # only misses: go up
    if b.largest_missed >= limits.high:
        return None
    return fresh(b.largest_missed * 2)
