"""Load the fault catalog can drive, and how fast a high reject rate reaches its target.

On a kwok cluster with the fabric deployed (the processes behind the
sidecar-watcher Service proxy, as faults see them):

1. **sustained rate** — for each offered rate, locust (its own process;
   ``--workers`` for distributed mode) sends violating traffic — what the
   high-reject-rate fault sends — through the Service proxy; the table shows
   what locust achieved, failures and latency, and the highest offered rate
   sustained (>= 95% achieved, < 1% failures).
2. **time to target** — with steady baseline traffic running, the
   high_reject_rate fault is injected at each multiplier; the reject rate is
   sampled from the watchers' metrics every 0.5 s over 1 s windows. Printed:
   the time inject() took (it measures the baseline first), the time from the
   fault's traffic starting to the reject rate first reaching its target, and
   to the fault's own proof holding.

    .venv/bin/python benchmarks/load.py [--cluster pfdrill-bench-load] [--keep]
        [--rates 100,200,400,800] [--duration 15] [--workers 0] [--multipliers 3,12,50]

A cluster that is not up is created (and removed afterwards unless --keep);
the fabric is deployed if it is not ready. Figures print as they come.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from pfdrill.cluster.client import KubeClient
from pfdrill.fabric import deploy
from pfdrill.fabric.authority import Authority
from pfdrill.faults import reject
from pfdrill.faults.context import FaultContext
from pfdrill.faults.fault import InjectableFault
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.metrics import TargetsFileReader
from pfdrill.load import runner
from pfdrill.load.plan import LoadPlan, TrafficKind
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths
from pfdrill.stack.lifecycle import Stack


def sustained(url: str, authority: Authority, rates: list[float], duration: float, workers: int,
              tmp: Path) -> list[dict[str, float]]:
    rows = []
    header = f"{'offered/s':>9} {'achieved/s':>10} {'requests':>9} {'failures':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    print(header)
    print("-" * len(header))
    for rate in rates:
        plan = LoadPlan(url, {TrafficKind.VIOLATING: rate}, duration_s=duration)
        run = runner.start(plan, authority, run_dir=tmp / f"rate-{rate:g}", workers=workers)
        s = run.wait(timeout_s=duration + 60)
        lat = s.latency_ms
        row = {"offered": rate, "achieved": s.requests / max(s.elapsed_s, 1e-9), "requests": s.requests,
               "failures": s.failures, "p50": lat.get("p50", 0.0), "p95": lat.get("p95", 0.0),
               "p99": lat.get("p99", 0.0)}
        rows.append(row)
        print(f"{rate:>9g} {row['achieved']:>10.0f} {s.requests:>9} {s.failures:>8} "
              f"{row['p50']:>7.1f} {row['p95']:>7.1f} {row['p99']:>7.1f}", flush=True)
    ok = [r["offered"] for r in rows if r["achieved"] >= 0.95 * r["offered"]
          and r["failures"] < 0.01 * max(r["requests"], 1)]
    print(f"sustained: {max(ok):g} req/s offered and achieved" if ok else "sustained: none of the rates")
    return rows


def time_to_target(ctx: FaultContext, multipliers: list[float]) -> list[dict[str, float]]:
    rows = []
    header = f"{'multiplier':>10} {'baseline/s':>10} {'target/s':>9} {'inject s':>8} {'to target s':>11} {'to proof s':>10} {'peak/s':>7}"
    print(header)
    print("-" * len(header))
    for mult in multipliers:
        fault = InjectableFault(FaultKind.HIGH_REJECT_RATE, ctx, key=f"bench-{mult:g}x")
        t0 = time.monotonic()
        fault.inject({"multiplier": mult, "baseline_window_s": 10})
        injected = time.monotonic()
        state = fault.state()
        assert state is not None
        target = state.measured["target_reject_rate"]
        # The worker started its traffic at most as long ago as its own start-up took.
        reached = proven = None
        peak = 0.0
        deadline = injected + 120
        while time.monotonic() < deadline and (reached is None or proven is None):
            live = reject.reject_rate(ctx, 1.0)
            peak = max(peak, live)
            now = time.monotonic() - injected
            if reached is None and live >= target:
                reached = now
            if proven is None and live >= reject.TOLERANCE * target:
                proven = now
        fault.rollback()
        row = {"multiplier": mult, "baseline": state.measured["effective_baseline"], "target": target,
               "inject_s": injected - t0, "to_target_s": reached if reached is not None else -1.0,
               "to_proof_s": proven if proven is not None else -1.0, "peak": peak}
        rows.append(row)
        print(f"{mult:>10g} {row['baseline']:>10.2f} {target:>9.2f} {row['inject_s']:>8.1f} "
              f"{row['to_target_s']:>11.1f} {row['to_proof_s']:>10.1f} {peak:>7.1f}", flush=True)
        time.sleep(5)  # let the reject rate settle back before the next baseline
    print("(times after inject() returned; -1: not reached within 120 s; inject s includes the "
          "10 s baseline measurement and locust's start-up)")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cluster", default="pfdrill-bench-load", help="kwok cluster name")
    ap.add_argument("--keep", action="store_true", help="keep a cluster this run created")
    ap.add_argument("--rates", default="100,200,400,800")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per offered rate")
    ap.add_argument("--workers", type=int, default=0, help="locust workers (0: one process)")
    ap.add_argument("--multipliers", default="3,12,50")
    ap.add_argument("--baseline-rate", type=float, default=20.0)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    stack = Stack(name=args.cluster)
    created = not stack.status().cluster or not stack.status().cluster.running  # type: ignore[union-attr]
    info = stack.up(progress=lambda m: print(m, flush=True))
    client = KubeClient(info.kubeconfig, info.context)
    config = Config()
    paths = Paths.from_env()
    try:
        if not deploy.status(client, config.namespace).ready:
            deploy.deploy(client, config=config, paths=paths, timeout_s=180)
        address = info.service_address(config.namespace, "sidecar-watcher")
        assert address, "no sidecar-watcher Service proxy"
        url = f"http://{address}"
        authority = Authority.for_context(info.context, paths)
        print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} cluster={info.context} "
              f"watchers={client.get_deployment(config.namespace, 'sidecar-watcher').replicas} "
              f"locust_workers={args.workers}")
        with tempfile.TemporaryDirectory(prefix="pfdrill-bench-load-") as tmp:
            print("\n1. violating traffic through the sidecar-watcher Service proxy")
            rows = sustained(url, authority, [float(r) for r in args.rates.split(",")],
                             args.duration, args.workers, Path(tmp))
            print(f"\n2. high_reject_rate: time to target (baseline traffic {args.baseline_rate:g} req/s)")
            ctx = FaultContext(client, config, paths,
                               metrics=TargetsFileReader(Path(info.runtime_dir) / "targets.json",
                                                         config.namespace),
                               watcher_url=url, kubeconfig=Path(info.kubeconfig))
            base = runner.start(LoadPlan.baseline(url, rate=args.baseline_rate), authority,
                                run_dir=Path(tmp) / "baseline")
            try:
                base.wait_for_stats()
                time.sleep(10)
                timing = time_to_target(ctx, [float(m) for m in args.multipliers.split(",")])
            finally:
                base.stop()
        if args.json:
            args.json.write_text(json.dumps({"sustained": rows, "time_to_target": timing}, indent=2) + "\n")
    finally:
        if created and not args.keep:
            stack.down(progress=lambda m: print(m, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
