"""Asking the policy adapter for a permit decision, over HTTP with keep-alive.

:class:`PermitSource` is the seam: the watcher uses :class:`HttpPermitSource`
(one pooled aiohttp session, so calls reuse connections), unit tests a fake.
A failed call raises :class:`AdapterFailure` with one of
``metrics.ADAPTER_ERROR_KINDS``; what that means for the request is the
watcher's ``adapter_failure_mode``, not this module's business.
"""

from __future__ import annotations

import os
import time
from typing import Protocol

import aiohttp

from pfdrill.fabric.rules import Decision

DEFAULT_ADAPTER_URL = "http://policy-adapter:8081"


class AdapterFailure(Exception):
    """A permit call that produced no decision; ``kind`` is an ADAPTER_ERROR_KINDS value."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        super().__init__(f"{kind}: {detail}")


class PermitSource(Protocol):
    async def decide(self, principal: str, action: str, timeout_s: float) -> Decision: ...


def adapter_url(explicit: str | None = None) -> str:
    """``--adapter-url``, else Kubernetes' service env vars, else the in-cluster DNS name."""
    if explicit:
        return explicit.rstrip("/")
    host = os.environ.get("POLICY_ADAPTER_SERVICE_HOST")
    port = os.environ.get("POLICY_ADAPTER_SERVICE_PORT")
    if host and port:
        return f"http://{host}:{port}"
    return DEFAULT_ADAPTER_URL


class HttpPermitSource:
    def __init__(self, base_url: str, pool_size: int = 64) -> None:
        self.base_url = base_url.rstrip("/")
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def decide(self, principal: str, action: str, timeout_s: float) -> Decision:
        try:
            async with self._client().post(
                f"{self.base_url}/v1/permit",
                json={"principal": principal, "action": action},
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as resp:
                if resp.status != 200:
                    raise AdapterFailure("http_status", f"adapter answered {resp.status}")
                try:
                    return Decision.from_dict(await resp.json(content_type=None))
                except ValueError as exc:
                    raise AdapterFailure("bad_response", str(exc)) from None
        except TimeoutError:
            raise AdapterFailure("timeout", f"no answer within {timeout_s * 1000:.0f} ms") from None
        except aiohttp.ClientConnectionError as exc:
            raise AdapterFailure("connect", str(exc) or type(exc).__name__) from None
        except aiohttp.ClientError as exc:
            raise AdapterFailure("bad_response", str(exc) or type(exc).__name__) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class CachedPermitSource:
    """Permit decisions remembered for ``ttl_s`` (performance mode); failures are never cached."""

    def __init__(self, inner: PermitSource, ttl_s: float = 1.0, max_entries: int = 4096) -> None:
        self.inner = inner
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._cache: dict[tuple[str, str], tuple[float, Decision]] = {}
        self.hits = 0

    async def decide(self, principal: str, action: str, timeout_s: float) -> Decision:
        key = (principal, action)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.ttl_s:
            self.hits += 1
            return hit[1]
        decision = await self.inner.decide(principal, action, timeout_s)
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[key] = (time.monotonic(), decision)
        return decision

    def clear(self) -> None:
        self._cache.clear()
