"""``policy-adapter``: the permit-decision service the sidecar-watcher calls.

``POST /v1/permit`` with ``{"principal": ..., "action": ...}`` answers
``{"allow": bool, "rule": name}`` from the rules in ConfigMap
``policy-adapter-config`` (key ``rules.yaml``, see :mod:`pfdrill.fabric.rules`).
The same ConfigMap carries the drill knobs ``error_rate`` (fraction of calls
answered 500) and ``added_latency_ms`` (delay before answering, e.g. past the
watcher's ``adapter_timeout_ms``). Everything is hot-reloaded; invalid
content is refused with an ERROR line and the last good rules stay.

It also reads ``adapter_failure_mode`` from ``policy-config`` (optional
``--policy-config-dir``) to export the ``adapter_failure_mode`` gauge: what
an outage of this adapter would mean for enforcement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from pfdrill.fabric import projected, serve
from pfdrill.fabric.chaos import AdapterKnobs, KnobsRefused
from pfdrill.fabric.logline import LogLine
from pfdrill.fabric.logsink import LogSink
from pfdrill.fabric.policy import FailureMode
from pfdrill.fabric.rules import RULES_KEY, RuleSet, RulesRefused
from pfdrill.fabric.telemetry import Telemetry
from pfdrill.model import metrics as m
from pfdrill.model.fabric import FABRIC

DEFAULT_PORT = 8081
_KNOWN_KEYS = {RULES_KEY, *AdapterKnobs.KEYS}


class Adapter:
    def __init__(self, sink: LogSink | None = None, rng: random.Random | None = None) -> None:
        self.telemetry = Telemetry(m.ADAPTER_METRICS)
        self.sink = sink or LogSink()
        self.rng = rng or random.Random()
        self.rules: RuleSet | None = None
        self.knobs = AdapterKnobs()
        self.failure_mode = FailureMode.FAIL_CLOSED
        self.started = time.time()
        self._outcomes = {o: self.telemetry[m.ADAPTER_REQUESTS].labels(outcome=o)
                          for o in m.ADAPTER_OUTCOMES}
        self._set_failure_mode(self.failure_mode)

    def log(self, level: str, event: str, tags: tuple[str, ...] = (), **fields: Any) -> None:
        self.sink.emit(LogLine(level, event, tags, {k: str(v) for k, v in fields.items()}))

    def _set_failure_mode(self, mode: FailureMode) -> None:
        self.failure_mode = mode
        for name in m.ADAPTER_FAILURE_MODES:
            self.telemetry[m.ADAPTER_FAILURE_MODE].labels(mode=name).set(1 if name == mode.value else 0)

    @property
    def ready(self) -> bool:
        return self.rules is not None

    def apply_config(self, files: projected.Files | None) -> None:
        data = projected.texts(files or {})
        try:
            unknown = sorted(set(data) - _KNOWN_KEYS)
            if unknown:
                raise RulesRefused(f"unknown key(s) {', '.join(unknown)}")
            if RULES_KEY not in data:
                raise RulesRefused(f"no {RULES_KEY} key")
            rules = RuleSet.parse(data[RULES_KEY])
            knobs = AdapterKnobs.parse(data)
        except (RulesRefused, KnobsRefused) as exc:
            self.log("ERROR", "config_reload", ("ERROR", "CONFIG_INVALID"), result="failure",
                     msg=f"policy-adapter-config refused: {exc}")
            return
        self.rules, self.knobs = rules, knobs
        self.log("WARNING" if knobs.error_rate or knobs.added_latency_ms else "INFO",
                 "config_reload", (), result="success", rules=len(rules.rules),
                 error_rate=knobs.error_rate, added_latency_ms=knobs.added_latency_ms)

    def apply_policy_config(self, files: projected.Files | None) -> None:
        text = projected.texts(files or {}).get("adapter_failure_mode", FailureMode.FAIL_CLOSED.value)
        try:
            mode = FailureMode(text.strip().lower())
        except ValueError:
            self.log("ERROR", "config_reload", ("ERROR",), result="failure",
                     msg=f"adapter_failure_mode={text!r} is not fail_closed or fail_open")
            return
        self._set_failure_mode(mode)

    async def permit(self, body: bytes) -> tuple[int, dict[str, Any]]:
        start = time.perf_counter()
        try:
            return await self._permit(body)
        finally:
            self.telemetry[m.ADAPTER_DURATION].observe(time.perf_counter() - start)

    async def _permit(self, body: bytes) -> tuple[int, dict[str, Any]]:
        knobs = self.knobs
        if knobs.added_latency_ms:
            await asyncio.sleep(knobs.added_latency_ms / 1000)
        try:
            data = json.loads(body)
            principal, action = data["principal"], data["action"]
            if not isinstance(principal, str) or not isinstance(action, str):
                raise TypeError("principal and action must be strings")
        except (ValueError, KeyError, TypeError) as exc:
            self._outcomes["malformed"].inc()
            return 400, {"error": f"malformed permit request: {exc}"}
        if knobs.error_rate and self.rng.random() < knobs.error_rate:
            self._outcomes["error"].inc()
            self.log("ERROR", "permit", ("ERROR",), principal=principal, action=action,
                     msg="injected error (error_rate)")
            return 500, {"error": "injected failure"}
        if self.rules is None:
            self._outcomes["error"].inc()
            return 503, {"error": "no rules loaded"}
        decision = self.rules.decide(principal, action)
        self._outcomes["allow" if decision.allow else "deny"].inc()
        return 200, decision.to_dict()

    def snapshot(self) -> dict[str, Any]:
        return {
            "service": FABRIC.adapter, "started": self.started, "dumped": time.time(),
            "ready": self.ready, "rules": self.rules.to_dict() if self.rules else None,
            "chaos": self.knobs.to_dict(), "failure_mode": self.failure_mode.value,
            "counters": self.telemetry.samples(),
        }


def build_app(adapter: Adapter) -> web.Application:
    async def permit(request: web.Request) -> web.Response:
        status, answer = await adapter.permit(await request.read())
        return web.json_response(answer, status=status)

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        return web.Response(text="ready\n") if adapter.ready else web.Response(
            status=503, text="not ready: no rules loaded\n")

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=adapter.telemetry.render(),
                            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_post("/v1/permit", permit)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=FABRIC.adapter, description=__doc__.split("\n")[0])
    p.add_argument("--config-dir", help="policy-adapter-config volume [$ADAPTER_CONFIG_DIR]")
    p.add_argument("--policy-config-dir", help="optional policy-config volume [$POLICY_CONFIG_DIR]")
    p.add_argument("--port", type=int, help=f"listen port [$PORT, else {DEFAULT_PORT}]")
    p.add_argument("--host", help="listen address [127.0.0.1 when $PORT is set, else 0.0.0.0]")
    p.add_argument("--poll-interval", type=float, default=0.5)
    p.add_argument("--dump-dir", type=Path, default=Path("."))
    return p.parse_args(argv)


async def amain(args: argparse.Namespace) -> None:
    adapter = Adapter()
    watches = [
        projected.Watch(serve.env_path(args.config_dir, "ADAPTER_CONFIG_DIR", "/etc/fabric/adapter"),
                        adapter.apply_config),
        projected.Watch(serve.env_path(args.policy_config_dir, "POLICY_CONFIG_DIR",
                                       "/etc/fabric/policy-config"), adapter.apply_policy_config),
    ]
    for w in watches:
        w.poll()
    host, port = serve.listen_address(args.port, args.host, DEFAULT_PORT)
    await serve.run(
        build_app(adapter), service=FABRIC.adapter, host=host, port=port, sink=adapter.sink,
        snapshot=adapter.snapshot, dump_dir=args.dump_dir,
        background=[lambda: projected.poll_forever(watches, args.poll_interval)],
    )


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    return serve.start(amain(parse_args(argv)))
