"""The locust side of pfdrill's traffic generator. Loaded only by ``python -m locust``.

Configured through the environment by :mod:`pfdrill.load.runner`:
``PFDRILL_LOAD_PLAN`` (plan JSON), ``PFDRILL_LOAD_IDENTITIES`` (identities
JSON) and, on the master or a standalone process, ``PFDRILL_LOAD_STATS``
(where the JSON statistics go every second and at the end).

One user class per traffic kind. Each class spawns exactly as many users as
the plan needs for its rate (``fixed_count``) and each user paces itself with
``constant_throughput``, so every kind gets its own rate regardless of the
others. In distributed mode workers send their per-kind counters to the
master with each stats report; the master merges and writes the file.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
from locust import FastHttpUser, constant_throughput, events, task
from locust.runners import WorkerRunner

from pfdrill.load.plan import LoadPlan, TrafficKind
from pfdrill.load.traffic import IdentitySet, Variant, variants

PLAN = LoadPlan.load(Path(os.environ["PFDRILL_LOAD_PLAN"]))
VARIANTS = {kind: [v for v in vs if v.name not in PLAN.exclude] or vs
            for kind, vs in variants(IdentitySet.load(Path(os.environ["PFDRILL_LOAD_IDENTITIES"]))).items()}
STATS_PATH = os.environ.get("PFDRILL_LOAD_STATS")
HEADERS = {"Content-Type": "application/json"}

counts: Counter[str] = Counter()  # "kind/field" and "reason/<reason>"
started = time.monotonic()


def _record(v: Variant, status: int, reason: str) -> str | None:
    """Count one answer; return a failure message when locust should count it as failed."""
    kind = v.kind.value
    counts[f"{kind}/requests"] += 1
    if status == 200:
        counts[f"{kind}/allowed"] += 1
        if not v.expect_allow:
            counts[f"{kind}/unexpected"] += 1
        return None
    if status == 403:
        counts[f"{kind}/rejected"] += 1
        counts[f"reason/{reason or 'unknown'}"] += 1
        if v.expect_allow:
            counts[f"{kind}/unexpected"] += 1
        return None
    counts[f"{kind}/failures"] += 1
    return f"HTTP {status}"


class _FabricUser(FastHttpUser):
    abstract = True
    kind = TrafficKind.COMPLIANT
    network_timeout = 10.0
    connection_timeout = 5.0
    _spawned = 0

    def __init__(self, environment: Any) -> None:
        # Round robin over the plan's targets (several replicas without a Service in front).
        targets = PLAN.targets
        self.host = targets[_FabricUser._spawned % len(targets)]
        _FabricUser._spawned += 1
        super().__init__(environment)

    def on_start(self) -> None:
        # Users spawned together would otherwise fire in lock-step bursts, queueing
        # requests behind each other and inflating latency no real client mix shows.
        rate = PLAN.rates.get(self.kind, 0.0) / max(PLAN.users(self.kind), 1)
        gevent.sleep(random.uniform(0, 1 / rate if rate > 0 else 0))

    @task
    def decide(self) -> None:
        v = random.choice(VARIANTS[self.kind])
        with self.client.post(PLAN.path, data=v.body, headers=HEADERS, name=v.name,
                              catch_response=True) as resp:
            reason = ""
            if resp.status_code == 403:
                try:
                    reason = str(json.loads(resp.content or b"{}").get("reason", ""))
                except ValueError:
                    reason = "unparsable"
            problem = _record(v, resp.status_code or 0, reason)
            if problem:
                resp.failure(problem)
            else:
                resp.success()


def _configure(cls: type[_FabricUser], kind: TrafficKind) -> type[_FabricUser]:
    cls.kind = kind
    users = PLAN.users(kind)
    cls.fixed_count = users
    cls.wait_time = constant_throughput(PLAN.rates.get(kind, 0.0) / users if users else 1.0)
    return cls


class CompliantUser(_FabricUser):
    pass


class ViolatingUser(_FabricUser):
    pass


class UnauthenticatedUser(_FabricUser):
    pass


class TamperedWitnessUser(_FabricUser):
    pass


USER_CLASSES = {
    TrafficKind.COMPLIANT: _configure(CompliantUser, TrafficKind.COMPLIANT),
    TrafficKind.VIOLATING: _configure(ViolatingUser, TrafficKind.VIOLATING),
    TrafficKind.UNAUTHENTICATED: _configure(UnauthenticatedUser, TrafficKind.UNAUTHENTICATED),
    TrafficKind.TAMPERED_WITNESS: _configure(TamperedWitnessUser, TrafficKind.TAMPERED_WITNESS),
}


def snapshot(environment: Any, finished: bool) -> dict[str, Any]:
    total = environment.stats.total
    by_kind: dict[str, dict[str, int]] = {}
    reasons: dict[str, int] = {}
    for key, n in counts.items():
        group, _, field = key.partition("/")
        if group == "reason":
            reasons[field] = n
        else:
            by_kind.setdefault(group, {})[field] = n
    elapsed = max(time.monotonic() - started, 1e-9)
    pct = total.get_response_time_percentile
    return {
        "elapsed_s": round(elapsed, 3),
        "requests": total.num_requests,
        "failures": total.num_failures,
        "rps": total.num_requests / elapsed,
        "current_rps": total.current_rps,
        "latency_ms": {
            "p50": pct(0.5) or 0.0, "p95": pct(0.95) or 0.0, "p99": pct(0.99) or 0.0,
            "max": total.max_response_time or 0.0, "avg": total.avg_response_time or 0.0,
        },
        "by_kind": by_kind,
        "rejects_by_reason": reasons,
        "finished": finished,
    }


_final_written = False


def write_stats(environment: Any, finished: bool = False) -> None:
    global _final_written
    # The periodic writer may tick once more during shutdown; the final figures must win.
    if not STATS_PATH or _final_written:
        return
    _final_written = finished
    path = Path(STATS_PATH)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snapshot(environment, finished)), encoding="utf-8")
    os.replace(tmp, path)


def _on_init(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return

    def loop() -> None:
        while True:
            gevent.sleep(1.0)
            write_stats(environment)

    gevent.spawn(loop)


def _on_test_start(environment: Any, **_: Any) -> None:
    global started
    started = time.monotonic()


def _on_report(client_id: str, data: dict[str, Any]) -> None:
    data["pfdrill_counts"] = dict(counts)
    counts.clear()


def _on_worker_report(client_id: str, data: dict[str, Any]) -> None:
    counts.update(data.get("pfdrill_counts", {}))


def _on_quitting(environment: Any, **_: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner):
        write_stats(environment, finished=True)


hooks: Any = events  # locust's EventHook is untyped
hooks.init.add_listener(_on_init)
hooks.test_start.add_listener(_on_test_start)
hooks.report_to_master.add_listener(_on_report)
hooks.worker_report.add_listener(_on_worker_report)
hooks.quitting.add_listener(_on_quitting)
