"""The decide request the sidecar-watcher judges, parsed strictly from JSON."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from pfdrill.fabric.labels import Flow

MAX_BODY = 64 * 1024
MAX_TRACE = 256


class MalformedRequest(ValueError):
    """The body is not a decide request; answered 400 and counted, never fatal."""


def _text(data: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        kind = "a non-empty string" if required else "a string"
        raise MalformedRequest(f"'{key}' must be {kind}")
    return value


@dataclasses.dataclass(frozen=True)
class DecideRequest:
    principal: str
    action: str
    trace: tuple[str, ...]
    flow: Flow
    labels: dict[str, Any]  # as sent: the witness signs exactly these
    certificate: str | None = None
    witness: str | None = None
    request_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "principal": self.principal, "action": self.action, "trace": list(self.trace),
            "labels": dict(self.labels), "request_id": self.request_id,
        }
        if self.certificate is not None:
            out["certificate"] = self.certificate
        if self.witness is not None:
            out["witness"] = self.witness
        return out

    @classmethod
    def from_dict(cls, data: Any) -> DecideRequest:
        if not isinstance(data, dict):
            raise MalformedRequest("body must be a JSON object")
        principal = _text(data, "principal", required=True)
        action = _text(data, "action", required=True) if "action" in data else _text(
            data, "event", required=True)
        trace = data.get("trace", [])
        if not isinstance(trace, list) or not all(isinstance(e, str) for e in trace):
            raise MalformedRequest("'trace' must be a list of event names")
        if len(trace) > MAX_TRACE:
            raise MalformedRequest(f"'trace' is longer than {MAX_TRACE} events")
        labels = data.get("labels")
        try:
            flow = Flow.from_dict(labels)
        except ValueError as exc:
            raise MalformedRequest(f"'labels': {exc}") from None
        assert isinstance(labels, dict) and principal is not None and action is not None
        request_id = data.get("request_id")
        return cls(
            principal=principal,
            action=action,
            trace=tuple(trace),
            flow=flow,
            labels=labels,
            certificate=_text(data, "certificate", required=False),
            witness=_text(data, "witness", required=False),
            request_id=request_id if isinstance(request_id, str) and request_id else uuid.uuid4().hex[:12],
        )

    @classmethod
    def parse(cls, body: bytes) -> DecideRequest:
        if len(body) > MAX_BODY:
            raise MalformedRequest(f"body is larger than {MAX_BODY} bytes")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedRequest(f"body is not JSON: {exc}") from None
        return cls.from_dict(data)
