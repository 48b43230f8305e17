"""The header every drill record carries, built by one factory."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


@dataclasses.dataclass(frozen=True)
class RecordHeader:
    """Who produced a record, against what, and when."""

    pfdrill_version: str
    cluster: str
    context: str
    provider: str
    started_at: str  # ISO-8601 UTC, e.g. 2026-11-28T12:00:00.123456+00:00
    # Where detection ran: the Prometheus and Alertmanager a verdict's MTTD comes from
    # ('' in records written before it was recorded).
    detection: str = ""

    @classmethod
    def create(
        cls, *, cluster: str, context: str, provider: str, now: dt.datetime | None = None,
        detection: str = "",
    ) -> RecordHeader:
        """The one factory for record headers (STYLE.md 5)."""
        from pfdrill._version import __version__

        when = now or dt.datetime.now(dt.UTC)
        return cls(
            pfdrill_version=__version__,
            cluster=cluster,
            context=context,
            provider=provider,
            started_at=when.astimezone(dt.UTC).isoformat(),
            detection=detection,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordHeader:
        return cls(**{f.name: str(data[f.name]) for f in dataclasses.fields(cls) if f.name in data})
