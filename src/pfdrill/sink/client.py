"""Talk to a running sink over HTTP: health, baselines, records."""

from __future__ import annotations

from typing import Any

import httpx

from pfdrill.errors import InvalidInput, ServiceUnavailable
from pfdrill.model.detection import Channel, SinkRequest
from pfdrill.model.signals import Baseline


class SinkClient:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = httpx.request(method, self.url + path, timeout=self._timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"notification sink at {self.url} is unreachable: {exc}") from exc
        if response.status_code == 400:
            raise InvalidInput(f"notification sink refused {path}: {response.json().get('error')}")
        if response.status_code >= 300:
            raise ServiceUnavailable(f"notification sink {method} {path}: HTTP {response.status_code}")
        return response

    def healthy(self) -> bool:
        try:
            return self._request("GET", "/healthz").status_code == 200
        except ServiceUnavailable:
            return False

    def publish_baseline(self, baseline: Baseline) -> dict[str, float]:
        """Publish a measured baseline (signals without a value are withdrawn)."""
        values: dict[str, float | None] = {"latency_mean_seconds": None, "reject_rate": None}
        values.update(baseline.gauges())
        result: dict[str, float] = self._request("PUT", "/baselines", json=values).json()
        return result

    def set_baselines(self, values: dict[str, float | None]) -> dict[str, float]:
        result: dict[str, float] = self._request("PUT", "/baselines", json=values).json()
        return result

    def baselines(self) -> dict[str, float]:
        result: dict[str, float] = self._request("GET", "/baselines").json()
        return result

    def records(self, channel: Channel | None = None, since: float | None = None) -> list[SinkRequest]:
        params: dict[str, str] = {}
        if channel is not None:
            params["channel"] = channel.value
        if since is not None:
            params["since"] = repr(since)
        return [SinkRequest.from_dict(d) for d in self._request("GET", "/records", params=params).json()]

    def notify(self, path: str, body: str | bytes, content_type: str = "application/json") -> int:
        """Post a notification (what the runbook's curl does); return the record's seq."""
        response = self._request("POST", path, content=body, headers={"Content-Type": content_type})
        seq: int = response.json()["seq"]
        return seq
