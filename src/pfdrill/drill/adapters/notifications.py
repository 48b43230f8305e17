"""Notification-sink adapters: the notifications received, and the baselines published there."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from pfdrill.model.evidence import Notification
from pfdrill.sink.client import SinkClient


class SinkNotifications:
    def __init__(self, sink: SinkClient) -> None:
        self._sink = sink

    def notifications(self, since: dt.datetime) -> Sequence[Notification]:
        return [Notification(channel=r.channel, received_wall=r.received_iso, text=r.body,
                             alerts=tuple(a.alertname for a in r.alerts()))
                for r in self._sink.records(since=since.timestamp())]


class SinkBaselineKeeper:
    """The baselines published on the sink (the relative alert rules read them)."""

    name = "sink-baselines"

    def __init__(self, sink: SinkClient) -> None:
        self._sink = sink

    def save(self) -> str:
        return json.dumps(self._sink.baselines(), sort_keys=True)

    def restore(self, saved: str) -> Sequence[str]:
        want: dict[str, float] = json.loads(saved)
        have = self._sink.baselines()
        if want == have:
            return []
        # Keys published during the drill are withdrawn (None), the rest put back.
        self._sink.set_baselines({**{k: None for k in have}, **want})
        return ["sink baselines restored" if want else "drill baseline withdrawn from the sink"]
