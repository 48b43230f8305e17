"""Detection records: notifications the sink received, and how fast each alert came.

Shared by the notification sink (writes :class:`SinkRequest`), the detection
API (builds :class:`AlertDetection`), and drill reports (read both).
Times are Unix seconds (floats); delays are seconds after the injection.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any

from pfdrill.model.severity import Severity


class Channel(enum.Enum):
    """Where a notification arrived, by the sink path it was posted to."""

    ALERTMANAGER = "alertmanager"  # /alertmanager/<receiver>
    SLACK = "slack"  # $SLACK_WEBHOOK
    SECURITY = "security"  # $SECURITY_WEBHOOK
    STAKEHOLDER = "stakeholder"  # $STAKEHOLDER_WEBHOOK
    TEAM = "team"  # $TEAM_WEBHOOK
    OTHER = "other"  # any other path: recorded, answered 404

    @classmethod
    def for_path(cls, path: str) -> Channel:
        first = path.strip("/").split("/", 1)[0]
        for member in cls:
            if member is not cls.OTHER and member.value == first:
                return member
        return cls.OTHER

    @classmethod
    def parse(cls, text: str) -> Channel:
        for member in cls:
            if member.value == text.strip().lower():
                return member
        raise ValueError(
            f"unknown channel {text!r}: expected one of {', '.join(m.value for m in cls)}"
        )

    @property
    def env_var(self) -> str | None:
        """The runbook's variable that points at this channel, if any."""
        return {
            Channel.SLACK: "SLACK_WEBHOOK", Channel.SECURITY: "SECURITY_WEBHOOK",
            Channel.STAKEHOLDER: "STAKEHOLDER_WEBHOOK", Channel.TEAM: "TEAM_WEBHOOK",
        }.get(self)


@dataclasses.dataclass(frozen=True)
class NotifiedAlert:
    """One alert inside an Alertmanager webhook body."""

    alertname: str
    status: str  # firing | resolved
    severity: str
    labels: dict[str, str]
    starts_at: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class SinkRequest:
    """One HTTP request the sink received, exactly as it came.

    ``body`` is the raw body decoded as UTF-8 (undecodable bytes replaced; the
    exact bytes are kept base64-encoded in ``body_b64`` then). ``json`` is the
    parsed body when it is JSON, else ``None`` with the parser's complaint in
    ``json_error`` — the runbook's curl bodies are often not valid JSON.
    """

    seq: int
    received_at: float
    method: str
    path: str
    channel: Channel
    query: str = ""
    content_type: str = ""
    body: str = ""
    body_b64: str | None = None
    json: Any = None
    json_error: str | None = None

    @property
    def received_iso(self) -> str:
        return dt.datetime.fromtimestamp(self.received_at, dt.UTC).isoformat()

    def alerts(self) -> tuple[NotifiedAlert, ...]:
        """The alerts of an Alertmanager webhook body (empty for anything else)."""
        if self.channel is not Channel.ALERTMANAGER or not isinstance(self.json, dict):
            return ()
        out: list[NotifiedAlert] = []
        for raw in self.json.get("alerts") or []:
            if not isinstance(raw, dict):
                continue
            labels = {str(k): str(v) for k, v in (raw.get("labels") or {}).items()}
            out.append(NotifiedAlert(
                alertname=labels.get("alertname", ""),
                status=str(raw.get("status") or self.json.get("status") or ""),
                severity=labels.get("severity", ""),
                labels=labels,
                starts_at=str(raw.get("startsAt") or ""),
            ))
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "received_at": self.received_at,
            "received_iso": self.received_iso, "method": self.method, "path": self.path,
            "channel": self.channel.value, "query": self.query,
            "content_type": self.content_type, "body": self.body, "body_b64": self.body_b64,
            "json": self.json, "json_error": self.json_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SinkRequest:
        return cls(
            seq=int(data["seq"]), received_at=float(data["received_at"]),
            method=str(data["method"]), path=str(data["path"]),
            channel=Channel.parse(str(data["channel"])), query=str(data.get("query") or ""),
            content_type=str(data.get("content_type") or ""), body=str(data.get("body") or ""),
            body_b64=data.get("body_b64"), json=data.get("json"),
            json_error=data.get("json_error"),
        )


@dataclasses.dataclass(frozen=True)
class LowerBound:
    """The time the alert pipeline needs by construction, per alert (the issue's "bound").

    A change becomes visible at the next scrape, is seen by the next rule
    evaluation, must then hold for ``for``; a rate needs one more scrape so that
    the new samples enter the window; Alertmanager then waits ``group_wait``
    before the first notification. ``alert_s``/``notification_s`` add the whole
    scrape and evaluation intervals, so they are what a healthy pipeline takes
    when the change lands just after a scrape; with luck in the phases a
    detection comes in under them (down to ``minimum_s``, ``for`` alone). How far
    a drill lands from them is the figure of merit; far above means something in
    the pipeline is slow.
    """

    scrape_s: float
    evaluation_s: float
    for_s: float
    rate_s: float  # 0 for gauges, one scrape interval for rate()-based alerts
    group_wait_s: float

    @property
    def alert_s(self) -> float:
        return self.scrape_s + self.evaluation_s + self.for_s + self.rate_s

    @property
    def notification_s(self) -> float:
        return self.alert_s + self.group_wait_s

    @property
    def minimum_s(self) -> float:
        """No alert can fire sooner than its ``for`` after the change."""
        return self.for_s

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["alert_s"] = self.alert_s
        d["notification_s"] = self.notification_s
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LowerBound:
        return cls(**{f.name: float(data[f.name]) for f in dataclasses.fields(cls)})


@dataclasses.dataclass(frozen=True)
class AlertDetection:
    """When one alert fired and was notified, relative to the injection."""

    alert: str
    severity: Severity
    runbook_section: str
    injected_at: float
    bound: LowerBound
    firing_at: float | None = None  # first sample of ALERTS{alertstate="firing"}
    notified_at: float | None = None  # first sink record carrying it, status firing

    @property
    def firing_delay_s(self) -> float | None:
        return None if self.firing_at is None else self.firing_at - self.injected_at

    @property
    def notification_delay_s(self) -> float | None:
        return None if self.notified_at is None else self.notified_at - self.injected_at

    @property
    def detected(self) -> bool:
        return self.notified_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert": self.alert, "severity": self.severity.value,
            "runbook_section": self.runbook_section, "injected_at": self.injected_at,
            "bound": self.bound.to_dict(), "firing_at": self.firing_at,
            "notified_at": self.notified_at, "firing_delay_s": self.firing_delay_s,
            "notification_delay_s": self.notification_delay_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertDetection:
        def opt(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        return cls(
            alert=str(data["alert"]), severity=Severity.parse(str(data["severity"])),
            runbook_section=str(data.get("runbook_section") or ""),
            injected_at=float(data["injected_at"]), bound=LowerBound.from_dict(data["bound"]),
            firing_at=opt("firing_at"), notified_at=opt("notified_at"),
        )


@dataclasses.dataclass(frozen=True)
class Detection:
    """Every alert that fired after an injection, first notified first."""

    injected_at: float
    observed_at: float
    alerts: tuple[AlertDetection, ...] = ()

    def first(self) -> AlertDetection | None:
        """The alert notified first (or, if none was notified, the first to fire)."""
        notified = [a for a in self.alerts if a.notified_at is not None]
        if notified:
            return min(notified, key=lambda a: a.notified_at or 0.0)
        firing = [a for a in self.alerts if a.firing_at is not None]
        return min(firing, key=lambda a: a.firing_at or 0.0) if firing else None

    def get(self, alert: str) -> AlertDetection | None:
        return next((a for a in self.alerts if a.alert == alert), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "injected_at": self.injected_at, "observed_at": self.observed_at,
            "alerts": [a.to_dict() for a in self.alerts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Detection:
        return cls(
            injected_at=float(data["injected_at"]), observed_at=float(data["observed_at"]),
            alerts=tuple(AlertDetection.from_dict(a) for a in data.get("alerts", [])),
        )
