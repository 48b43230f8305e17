"""HTTP clients for Prometheus and Alertmanager (the few calls pfdrill needs).

Work the same against the local stack and an in-cluster server reached by
URL. An unreachable server is :class:`ServiceUnavailable` with a one-line
message naming the URL; a query Prometheus rejects is :class:`InvalidInput`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from collections.abc import Callable
from typing import Any, Self

import httpx

from pfdrill.errors import InvalidInput, ServiceUnavailable


@dataclasses.dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float
    timestamp: float


@dataclasses.dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]  # (unix seconds, value), oldest first


@dataclasses.dataclass(frozen=True)
class ActiveAlert:
    labels: dict[str, str]
    annotations: dict[str, str]
    state: str  # pending | firing
    active_at: float | None
    value: float

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


def parse_time(text: str | None) -> float | None:
    """An RFC 3339 time from Prometheus/Alertmanager as Unix seconds (None if unset/bad)."""
    if not text or text.startswith("0001-"):
        return None

    cleaned = text.replace("Z", "+00:00")
    # Go prints nanoseconds; Python parses at most microseconds.
    if "." in cleaned:
        head, rest = cleaned.split(".", 1)
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        cleaned = f"{head}.{digits[:6]}{zone}"
    try:
        return dt.datetime.fromisoformat(cleaned).timestamp()
    except ValueError:
        return None


def _float(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


class _HTTP:
    kind = "server"

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._client = httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Let go of the pooled connections; a later request opens new ones."""
        self._client.close()
        self._client = httpx.Client(timeout=self._timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, self.url + path, **kwargs)
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise ServiceUnavailable(f"{self.kind} at {self.url} is unreachable: {reason}") from exc

    def ready(self) -> bool:
        try:
            return self._request("GET", "/-/ready").status_code == 200
        except ServiceUnavailable:
            return False

    def reload(self) -> None:
        """POST /-/reload (needs --web.enable-lifecycle); raise if it is refused."""
        response = self._request("POST", "/-/reload")
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"{self.kind} at {self.url} refused the reload: HTTP {response.status_code} "
                f"{response.text.strip()[:200]}"
            )


# How long a ConfigMap edit may take to reach Prometheus' rules volume: a kubelet projects
# an update within about a minute (pfctl monitoring's edits, a drill's restore).
CONFIGMAP_SYNC_S = 150.0


class PrometheusAPI(_HTTP):
    kind = "Prometheus"

    def _data(self, path: str, params: dict[str, str] | None = None) -> Any:
        response = self._request("GET", path, params=params)
        try:
            body = response.json()
        except ValueError as exc:
            raise ServiceUnavailable(f"Prometheus at {self.url}{path}: not JSON "
                                     f"(HTTP {response.status_code})") from exc
        if body.get("status") != "success":
            message = f"Prometheus refused {params or path}: {body.get('error', response.status_code)}"
            if response.status_code == 400:
                raise InvalidInput(message)
            raise ServiceUnavailable(message)
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[Sample]:
        params = {"query": expr}
        if at is not None:
            params["time"] = repr(at)
        data = self._data("/api/v1/query", params)
        if data["resultType"] == "scalar":
            ts, value = data["result"]
            return [Sample({}, _float(value), float(ts))]
        if data["resultType"] != "vector":
            raise InvalidInput(f"query {expr!r} is not an instant vector ({data['resultType']})")
        return [Sample(dict(r["metric"]), _float(r["value"][1]), float(r["value"][0]))
                for r in data["result"]]

    def value(self, expr: str, at: float | None = None) -> float | None:
        """The single value of ``expr`` (the first if many); None if empty or NaN."""
        samples = self.query(expr, at)
        if not samples or math.isnan(samples[0].value):
            return None
        return samples[0].value

    def raw(self, selector: str, seconds: float, at: float | None = None) -> list[Series]:
        """Raw samples of ``selector`` over the last ``seconds`` (exact timestamps)."""
        window = max(1, math.ceil(seconds))
        params = {"query": f"{selector}[{window}s]"}
        if at is not None:
            params["time"] = repr(at)
        data = self._data("/api/v1/query", params)
        return [Series(dict(r["metric"]), tuple((float(t), _float(v)) for t, v in r["values"]))
                for r in data["result"]]

    def over(self, expr: str, seconds: float, step_s: float,
             at: float | None = None) -> list[Series]:
        """``expr`` evaluated every ``step_s`` over the last ``seconds`` (a subquery)."""
        params = {"query": f"({expr})[{max(1, math.ceil(seconds))}s:{max(1, int(step_s))}s]"}
        if at is not None:
            params["time"] = repr(at)
        data = self._data("/api/v1/query", params)
        return [Series(dict(r["metric"]), tuple((float(t), _float(v)) for t, v in r["values"]))
                for r in data["result"]]

    def alerts(self) -> list[ActiveAlert]:
        data = self._data("/api/v1/alerts")
        return [ActiveAlert(
            labels=dict(a.get("labels") or {}), annotations=dict(a.get("annotations") or {}),
            state=str(a.get("state", "")), active_at=parse_time(a.get("activeAt")),
            value=_float(a.get("value")),
        ) for a in data.get("alerts", [])]

    def rule_names(self) -> list[str]:
        data = self._data("/api/v1/rules")
        return [str(r.get("name")) for g in data.get("groups", []) for r in g.get("rules", [])]

    def reload_until(self, loaded: Callable[[dict[str, str]], bool], *, timeout_s: float,
                     poll_s: float = 2.0) -> int:
        """Reload until ``loaded(alert_exprs())`` holds; returns how many reloads it took.

        Rules in a ConfigMap reach Prometheus' volume when the kubelet next syncs the pod
        (about a minute on a real cluster), so one reload may still read the old file.
        Raises ServiceUnavailable after ``timeout_s`` (0: one reload, one look).
        """
        deadline = time.monotonic() + timeout_s
        tries = 0
        while True:
            self.reload()
            tries += 1
            if loaded(self.alert_exprs()):
                return tries
            if time.monotonic() >= deadline:
                raise ServiceUnavailable(f"Prometheus at {self.url} reloaded {tries}x and still "
                                         "does not run the edited rules")
            time.sleep(poll_s)

    def alert_exprs(self) -> dict[str, str]:
        """The expression of every alerting rule Prometheus has loaded, by alert name."""
        data = self._data("/api/v1/rules", {"type": "alert"})
        return {str(r.get("name")): str(r.get("query", "")) for g in data.get("groups", [])
                for r in g.get("rules", [])}

    def alertmanagers(self) -> list[str]:
        """URLs of the Alertmanagers Prometheus' notifier has discovered."""
        data = self._data("/api/v1/alertmanagers")
        return [str(a.get("url")) for a in data.get("activeAlertmanagers", [])]

    def targets(self) -> list[dict[str, Any]]:
        data = self._data("/api/v1/targets", {"state": "active"})
        return list(data.get("activeTargets", []))

    def wait_for(self, expr: str, timeout: float, poll: float = 0.25) -> float | None:
        """Poll until ``expr`` has a value; return it, or None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.value(expr)
            if found is not None or time.monotonic() >= deadline:
                return found
            time.sleep(poll)


class AlertmanagerAPI(_HTTP):
    kind = "Alertmanager"

    def alerts(self) -> list[dict[str, Any]]:
        response = self._request("GET", "/api/v2/alerts")
        if response.status_code != 200:
            raise ServiceUnavailable(f"Alertmanager at {self.url}: HTTP {response.status_code}")
        result: list[dict[str, Any]] = response.json()
        return result
