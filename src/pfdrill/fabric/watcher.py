"""``sidecar-watcher``: the HTTP service that decides every request.

Endpoints: ``POST /v1/decide`` (see :mod:`pfdrill.fabric.request`),
``GET /healthz`` (the process is alive), ``GET /readyz`` (config, DFA and
trust bundle are all loaded), ``GET /metrics`` (Prometheus, exactly the
watcher names in :mod:`pfdrill.model.metrics`).

Inputs are projected directories given by flag or environment (the process
runtime rewrites mount paths in both): ``--config-dir`` (ConfigMap
``policy-config``), ``--dfa-dir`` (``dfa-artifact``), ``--certs-dir`` (Secret
``fabric-certs``), ``--chaos-dir`` (optional ``fabric-chaos``). They are
polled every ``--poll-interval`` seconds and applied without a restart.
The adapter is found by ``--adapter-url``, else ``POLICY_ADAPTER_SERVICE_HOST``/
``_PORT``, else ``http://policy-adapter:8081``.
"""

from __future__ import annotations

import argparse
import json
import signal
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from pfdrill.fabric import projected, serve
from pfdrill.fabric.permit import HttpPermitSource, adapter_url
from pfdrill.fabric.service import Watcher
from pfdrill.model.fabric import FABRIC

DEFAULT_PORT = 8080
_JSON = "application/json"


def build_app(watcher: Watcher) -> web.Application:
    async def decide(request: web.Request) -> web.Response:
        status, answer = await watcher.decide(await request.read())
        return web.Response(status=status, body=json.dumps(answer).encode(), content_type=_JSON)

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        if watcher.ready:
            return web.Response(text="ready\n")
        return web.Response(status=503, text="not ready: missing " + ", ".join(watcher.missing()) + "\n")

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=watcher.telemetry.render(),
                            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    app = web.Application(client_max_size=128 * 1024)
    app.router.add_post("/v1/decide", decide)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=FABRIC.watcher, description=__doc__.split("\n")[0])
    p.add_argument("--config-dir", help="policy-config volume [$POLICY_CONFIG_DIR]")
    p.add_argument("--dfa-dir", help="dfa-artifact volume [$DFA_ARTIFACT_DIR]")
    p.add_argument("--certs-dir", help="fabric-certs volume [$FABRIC_CERTS_DIR]")
    p.add_argument("--chaos-dir", help="optional fabric-chaos volume [$FABRIC_CHAOS_DIR]")
    p.add_argument("--adapter-url", help="policy adapter base URL")
    p.add_argument("--without-metric", action="append", default=[], metavar="NAME",
                   help="leave this metric out of /metrics (a fabric lacking part of the "
                   "contract, to check pfdrill fabric check); repeatable")
    p.add_argument("--port", type=int, help=f"listen port [$PORT, else {DEFAULT_PORT}]")
    p.add_argument("--host", help="listen address [127.0.0.1 when $PORT is set, else 0.0.0.0]")
    p.add_argument("--poll-interval", type=float, default=0.5, help="seconds between reloads")
    p.add_argument("--dump-dir", type=Path, default=Path("."), help="where SIGUSR1 dumps go")
    return p.parse_args(argv)


async def amain(args: argparse.Namespace) -> None:
    permits = HttpPermitSource(adapter_url(args.adapter_url))
    watcher = Watcher(permits)
    watcher.telemetry.withhold(args.without_metric)
    watches = [
        projected.Watch(serve.env_path(args.config_dir, "POLICY_CONFIG_DIR", "/etc/fabric/policy-config"),
                        watcher.apply_config),
        projected.Watch(serve.env_path(args.dfa_dir, "DFA_ARTIFACT_DIR", "/etc/fabric/dfa"),
                        watcher.apply_dfa),
        projected.Watch(serve.env_path(args.certs_dir, "FABRIC_CERTS_DIR", "/etc/fabric/certs"),
                        watcher.apply_bundle),
        projected.Watch(serve.env_path(args.chaos_dir, "FABRIC_CHAOS_DIR", "/etc/fabric/chaos"),
                        watcher.apply_knobs),
    ]
    for w in watches:
        w.poll()
    host, port = serve.listen_address(args.port, args.host, DEFAULT_PORT)
    try:
        await serve.run(
            build_app(watcher), service=FABRIC.watcher, host=host, port=port, sink=watcher.sink,
            snapshot=watcher.snapshot, dump_dir=args.dump_dir,
            background=[lambda: projected.poll_forever(watches, args.poll_interval)],
        )
    finally:
        await permits.close()


def main(argv: Sequence[str] | None = None) -> int:
    # Until the loop installs the real handler, a dump request must not kill us.
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    return serve.start(amain(parse_args(argv)))
