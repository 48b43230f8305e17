"""Statistics of a load run, as the locust process writes them (JSON, every second).

``requests`` counts every response; ``failures`` are transport errors and
answers other than 200/403 (a 403 is the fabric doing its job, counted as a
*reject*); ``unexpected`` counts answers that contradict the variant's
expectation under enforce mode (a compliant request rejected, a violating one
allowed), which is what shadow, monitor, disabled and break_glass produce on
purpose. Latencies are locust's, in milliseconds, over the whole run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

KIND_FIELDS = ("requests", "allowed", "rejected", "failures", "unexpected")


@dataclasses.dataclass(frozen=True)
class KindStats:
    requests: int = 0
    allowed: int = 0
    rejected: int = 0
    failures: int = 0
    unexpected: int = 0

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KindStats:
        return cls(**{f: int(data.get(f, 0)) for f in KIND_FIELDS})


@dataclasses.dataclass(frozen=True)
class LoadStats:
    elapsed_s: float
    requests: int
    failures: int
    rps: float  # average over the run
    current_rps: float
    latency_ms: dict[str, float]  # p50, p95, p99, max, avg
    by_kind: dict[str, KindStats]
    rejects_by_reason: dict[str, int]
    finished: bool = False

    @property
    def rejects(self) -> int:
        return sum(k.rejected for k in self.by_kind.values())

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["by_kind"] = {k: v.to_dict() for k, v in self.by_kind.items()}
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadStats:
        return cls(
            elapsed_s=float(data["elapsed_s"]),
            requests=int(data["requests"]),
            failures=int(data["failures"]),
            rps=float(data["rps"]),
            current_rps=float(data["current_rps"]),
            latency_ms={k: float(v) for k, v in data["latency_ms"].items()},
            by_kind={k: KindStats.from_dict(v) for k, v in data["by_kind"].items()},
            rejects_by_reason={k: int(v) for k, v in data["rejects_by_reason"].items()},
            finished=bool(data.get("finished", False)),
        )

    @classmethod
    def read(cls, path: Path) -> LoadStats | None:
        """The latest stats in ``path``; None when none were written yet."""
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError):
            return None

    def summary(self) -> str:
        lat = self.latency_ms
        kinds = ", ".join(f"{k} {v.requests} ({v.rejected} rejected)" for k, v in sorted(self.by_kind.items()))
        return (f"{self.requests} requests in {self.elapsed_s:.1f}s ({self.rps:.0f}/s), "
                f"{self.failures} failures, p50 {lat.get('p50', 0):.1f} ms, p95 {lat.get('p95', 0):.1f} ms, "
                f"p99 {lat.get('p99', 0):.1f} ms; {kinds}")
