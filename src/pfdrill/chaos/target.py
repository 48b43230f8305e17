"""From a chaostoolkit ``configuration`` to the :class:`FaultContext` the activities act on.

Every key is optional; each has an environment variable, so ``chaos run``
works with ``--var pfdrill_context=...`` as well as ``PFDRILL_CONTEXT=...``:

=========================  =======================  =========================================
configuration key          environment variable     meaning (default)
=========================  =======================  =========================================
``pfdrill_cluster``        ``PFDRILL_CLUSTER``      kwok cluster name (``pfdrill``)
``pfdrill_kubeconfig``     ``PFDRILL_KUBECONFIG``   kubeconfig file (the kwok cluster's)
``pfdrill_context``        ``PFDRILL_CONTEXT``      context (the kubeconfig's current one)
``pfdrill_namespace``      ``PFDRILL_NAMESPACE``    fabric namespace (pfdrill config's)
``pfdrill_state_dir``      ``PFDRILL_STATE_DIR``    pfdrill state dir (fault state, the CA)
``pfdrill_config``         ``PFDRILL_CONFIG``       pfdrill config file (allow-list)
``pfdrill_watcher_url``    ``PFDRILL_WATCHER_URL``  watcher URL (kwok Service proxy)
``pfdrill_prometheus_url`` ``PFDRILL_PROMETHEUS_URL`` Prometheus, when there is no kwok runtime
``pfdrill_runtime_dir``    ``PFDRILL_RUNTIME_DIR``  kwok process runtime dir (found from the cluster)
=========================  =======================  =========================================

Contexts are cached per process: one experiment calls many activities. A
program that already holds a :class:`FaultContext` (the drill engine; unit
tests over a fake cluster) can :func:`pin` it: the returned configuration
value ``pfdrill_pinned`` makes every activity of an in-process run use it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pfdrill.cluster.client import KubeClient
from pfdrill.errors import InvalidInput
from pfdrill.faults.context import FaultContext
from pfdrill.faults.metrics import MetricsReader, PrometheusReader, TargetsFileReader
from pfdrill.model.fabric import FABRIC, RuntimeFiles
from pfdrill.settings.config import load_config
from pfdrill.settings.paths import Paths
from pfdrill.stack.lifecycle import Stack

KEYS: dict[str, str] = {
    "pfdrill_cluster": "PFDRILL_CLUSTER",
    "pfdrill_kubeconfig": "PFDRILL_KUBECONFIG",
    "pfdrill_context": "PFDRILL_CONTEXT",
    "pfdrill_namespace": "PFDRILL_NAMESPACE",
    "pfdrill_state_dir": "PFDRILL_STATE_DIR",
    "pfdrill_config": "PFDRILL_CONFIG",
    "pfdrill_watcher_url": "PFDRILL_WATCHER_URL",
    "pfdrill_prometheus_url": "PFDRILL_PROMETHEUS_URL",
    "pfdrill_runtime_dir": "PFDRILL_RUNTIME_DIR",
}
DEFAULT_CLUSTER = "pfdrill"
WATCHER_SERVICE = FABRIC.watcher

PINNED = "pfdrill_pinned"

_cache: dict[tuple[str, ...], FaultContext] = {}
_pinned: dict[str, FaultContext] = {}
_lock = threading.Lock()


def setting(configuration: Mapping[str, Any] | None, key: str) -> str:
    """The configuration's value, else the environment's, else ""."""
    value = (configuration or {}).get(key)
    if value in (None, ""):
        value = os.environ.get(KEYS[key], "")
    return str(value).strip()


def experiment_configuration() -> dict[str, dict[str, str]]:
    """The ``configuration`` block of pfdrill's scenarios: every key from its env var."""
    out: dict[str, dict[str, str]] = {
        key: {"type": "env", "key": env, "default": ""} for key, env in KEYS.items()}
    # In-process only (see pin); from the environment it is always empty.
    out[PINNED] = {"type": "env", "key": "PFDRILL_PINNED_CONTEXT", "default": ""}
    return out


def _services_address(runtime_dir: Path, namespace: str) -> str | None:
    try:
        data = json.loads(RuntimeFiles(runtime_dir).services.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get(f"{namespace}/{WATCHER_SERVICE}")
    return f"http://{entry['address']}" if entry else None


def context(configuration: Mapping[str, Any] | None = None) -> FaultContext:
    """The fault context the configuration names (built once per process and settings)."""
    pinned = str((configuration or {}).get(PINNED) or "")
    if pinned:
        with _lock:
            if pinned not in _pinned:
                raise InvalidInput(f"{PINNED}={pinned!r} names no context pinned in this process")
            return _pinned[pinned]
    values = tuple(setting(configuration, k) for k in KEYS)
    with _lock:
        found = _cache.get(values)
        if found is None:
            found = _cache[values] = _build(dict(zip(KEYS, values, strict=True)))
        return found


def _build(s: dict[str, str]) -> FaultContext:
    paths = Paths.from_env()
    if s["pfdrill_state_dir"]:
        paths = Paths(cache=paths.cache, state=Path(s["pfdrill_state_dir"]))
    config = load_config(s["pfdrill_config"] or None)
    if s["pfdrill_namespace"]:
        from dataclasses import replace

        config = replace(config, namespace=s["pfdrill_namespace"])
    runtime_dir = Path(s["pfdrill_runtime_dir"]) if s["pfdrill_runtime_dir"] else None
    if s["pfdrill_kubeconfig"]:
        kubeconfig = Path(s["pfdrill_kubeconfig"])
        client = KubeClient(kubeconfig, s["pfdrill_context"] or None)
        if runtime_dir is None and client.context.startswith("kwok-"):
            guess = Stack(name=client.context.removeprefix("kwok-"), paths=paths, config=config).runtime_dir
            runtime_dir = guess if guess.is_dir() else None
    else:
        stack = Stack(name=s["pfdrill_cluster"] or DEFAULT_CLUSTER, paths=paths, config=config)
        info = stack.info()
        kubeconfig = Path(info.kubeconfig)
        client = KubeClient(kubeconfig, s["pfdrill_context"] or info.context)
        if runtime_dir is None and info.runtime_dir:
            runtime_dir = Path(info.runtime_dir)
    metrics: MetricsReader | None = None
    prometheus = s["pfdrill_prometheus_url"] or config.prometheus_url
    if runtime_dir is not None and RuntimeFiles(runtime_dir).targets.is_file():
        metrics = TargetsFileReader(RuntimeFiles(runtime_dir).targets, config.namespace)
    elif prometheus:
        metrics = PrometheusReader(prometheus, config.namespace)
    watcher = s["pfdrill_watcher_url"] or (
        _services_address(runtime_dir, config.namespace) if runtime_dir else None)
    return FaultContext(client, config, paths, metrics=metrics, watcher_url=watcher,
                        kubeconfig=kubeconfig, runtime_dir=runtime_dir)


def pinned(configuration: Mapping[str, Any] | None) -> bool:
    """Whether this run acts for a program holding its own context (a drill, which holds
    the drill Lease itself)."""
    return bool((configuration or {}).get(PINNED))


def pin(ctx: FaultContext) -> dict[str, str]:
    """Make ``ctx`` the context of runs in this process given the returned configuration."""
    token = f"ctx-{id(ctx):x}"
    with _lock:
        _pinned[token] = ctx
    return {PINNED: token}


def unpin(configuration: Mapping[str, Any]) -> None:
    with _lock:
        _pinned.pop(str(configuration.get(PINNED) or ""), None)


def forget() -> None:
    """Drop cached contexts (after a configuration or environment change)."""
    with _lock:
        for ctx in _cache.values():
            ctx.close()
        _cache.clear()
