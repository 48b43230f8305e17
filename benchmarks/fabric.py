"""Decisions per second and latency of the reference fabric, through locust.

Starts one policy-adapter and two sidecar-watcher processes locally (the
LocalFabric harness, real HTTP, default policy-config), then for each offered
rate runs locust (its own process; ``--workers`` for distributed mode) with
the steady-baseline traffic mix spread over both watchers, and prints a table:
offered rate, achieved decisions/s, failures, and p50/p95/p99 latency as
locust measured them end to end. Targets on the 2-core reference machine:
>= 1,000 decisions/s in total, p95 <= 20 ms at 500/s.

    .venv/bin/python benchmarks/fabric.py [--rates 250,500,1000,1500] [--duration 20] [--workers 0]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from pfdrill.fabric.local import LocalFabric, Process
from pfdrill.load import runner
from pfdrill.load.plan import LoadPlan


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to show cost apart from contention."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fabric_cpu(procs: list[Process]) -> float:
    return sum(cpu_seconds(p.pid) for p in procs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rates", default="250,500,1000,1500", help="offered total req/s, comma-separated")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds per rate")
    ap.add_argument("--watchers", type=int, default=2)
    ap.add_argument("--workers", type=int, default=0, help="locust workers (0: one local process)")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    rows = []
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} watchers={args.watchers} adapter=1 "
          f"locust_workers={args.workers} duration={args.duration:g}s per rate")
    with tempfile.TemporaryDirectory(prefix="pfdrill-bench-") as tmp, \
            LocalFabric(root=Path(tmp) / "fabric") as fabric:
        fabric.start(watchers=args.watchers)
        urls = [w.url for w in fabric.watchers]
        procs = [*fabric.watchers, *([fabric.adapter] if fabric.adapter else [])]
        header = f"{'offered/s':>9} {'decisions/s':>11} {'requests':>9} {'failures':>8} " \
                 f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'fabric cpu ms/dec':>17}"
        print(header)
        print("-" * len(header))
        for rate in rates:
            plan = LoadPlan.baseline(urls[0], rate=rate, duration_s=args.duration,
                                     extra_targets=tuple(urls[1:]))
            cpu_before = fabric_cpu(procs)
            run = runner.start(plan, fabric.authority, run_dir=Path(tmp) / f"run-{rate:g}",
                               workers=args.workers)
            s = run.wait(timeout_s=args.duration + 60)
            cpu_ms = (fabric_cpu(procs) - cpu_before) * 1000 / max(s.requests, 1)
            decided = s.requests - s.failures
            lat = s.latency_ms
            row = {"offered": rate, "decisions_per_s": decided / s.elapsed_s, "requests": s.requests,
                   "failures": s.failures, "fabric_cpu_ms_per_decision": cpu_ms,
                   **{k: lat.get(k, 0.0) for k in ("p50", "p95", "p99", "max")}}
            rows.append(row)
            print(f"{rate:>9g} {row['decisions_per_s']:>11.0f} {s.requests:>9} {s.failures:>8} "
                  f"{lat['p50']:>7.1f} {lat['p95']:>7.1f} {lat['p99']:>7.1f} {lat['max']:>7.1f} "
                  f"{cpu_ms:>17.2f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
