"""Cluster lifecycle benchmark: pfdrill ``cluster up``/``down`` against bare kwokctl.

Prints the toolchain build times recorded in the cache manifest (the cold
build, when this cache was built cold), then N rounds of:

- bare kwokctl: ``kwokctl create cluster`` (same config, same local binaries,
  ``--wait``) + ``kwokctl scale node``, then polled with kubectl until the
  same point pfdrill calls ready (nodes Ready and the ``default`` service
  account present, without which no pod can be created); then
  ``kwokctl delete cluster``. The time at which kwokctl itself returns is
  printed too;
- pfdrill: ``pfdrill cluster up`` (cluster ready, nodes Ready, default service
  account present, process runtime started), then ``pfdrill cluster down``.

Both are run as fresh CLI processes, as a user would. Target: pfdrill's up
within 1.2x of bare kwokctl and under 15 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from pfdrill.cluster.kwok import KwokProvider
from pfdrill.settings.paths import Paths
from pfdrill.toolchain import build


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=300)
    return time.monotonic() - started


def bare_kwokctl(paths: Paths, name: str) -> tuple[float, float, float]:
    p = KwokProvider(name, paths=paths)
    p.write_config()
    env = dict(os.environ, KWOK_WORKDIR=str(p.workdir))
    kwokctl = str(p.binaries()["kwokctl"])
    base = [kwokctl, "--name", name]
    started = time.monotonic()
    subprocess.run([*base, "-c", str(p.config_path), *p.create_command()], check=True,
                   capture_output=True, env=env, timeout=300)
    subprocess.run([*base, "scale", "node", "--replicas", str(p.nodes)], check=True,
                   capture_output=True, env=env, timeout=300)
    returned = time.monotonic() - started
    kubectl = [str(p.binaries()["kubectl"]), "--kubeconfig", str(p.kubeconfig())]
    while True:
        sa = subprocess.run([*kubectl, "get", "serviceaccount", "default", "-o", "name"],
                            capture_output=True, env=env, timeout=30)
        nodes = subprocess.run([*kubectl, "get", "nodes", "--no-headers"], capture_output=True,
                               text=True, env=env, timeout=30).stdout
        if sa.returncode == 0 and nodes.count(" Ready ") >= p.nodes:
            break
        if time.monotonic() - started > 120:
            raise SystemExit("bare kwokctl cluster never became ready")
        time.sleep(0.1)
    up = time.monotonic() - started
    down = timed([*base, "delete", "cluster"], env)
    p.kubeconfig().unlink(missing_ok=True)
    return returned, up, down


def pfdrill_cli(name: str) -> tuple[float, float]:
    exe = [sys.executable, "-m", "pfdrill", "cluster"]
    up = timed([*exe, "up", "--name", name])
    down = timed([*exe, "down", "--name", name])
    return up, down


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    paths = Paths.from_env()
    tc = build.ensure(paths=paths)

    print("toolchain (from the cache manifest; build time as recorded when each was built)")
    seen: set[str] = set()
    for entry in sorted(tc.entries.values(), key=lambda e: e.component):
        if entry.component in seen:
            continue
        seen.add(entry.component)
        print(f"  {entry.component:<16} {entry.version:<10} built in {entry.build_seconds:7.1f} s")
    print(f"  {'total':<16} {'':<10} built in {sum(build_seconds_by_component(tc).values()):7.1f} s")

    bare_ret: list[float] = []
    bare_up: list[float] = []
    bare_down: list[float] = []
    pf_up: list[float] = []
    pf_down: list[float] = []
    for i in range(args.rounds):
        r, u, d = bare_kwokctl(paths, f"bench-bare-{i}")
        bare_ret.append(r)
        bare_up.append(u)
        bare_down.append(d)
        u, d = pfdrill_cli(f"pfdrill-bench-{i}")
        pf_up.append(u)
        pf_down.append(d)
        print(f"round {i + 1}: kwokctl returns {bare_ret[-1]:5.2f} s, ready {bare_up[-1]:5.2f} s, "
              f"down {bare_down[-1]:5.2f} s | "
              f"pfdrill up {pf_up[-1]:5.2f} s down {pf_down[-1]:5.2f} s")

    def med(xs: list[float]) -> float:
        return statistics.median(xs)

    print()
    print(f"{'':<22}{'bare kwokctl':>14}{'pfdrill':>10}{'ratio':>8}")
    print(f"{'kwokctl returns':<22}{med(bare_ret):>12.2f} s")
    print(f"{'up to ready (median)':<22}{med(bare_up):>12.2f} s{med(pf_up):>8.2f} s{med(pf_up) / med(bare_up):>8.2f}")
    print(f"{'down (median)':<22}{med(bare_down):>12.2f} s{med(pf_down):>8.2f} s{med(pf_down) / med(bare_down):>8.2f}")
    ok = med(pf_up) <= 1.2 * med(bare_up) and med(pf_up) < 15
    print(f"target: pfdrill up <= 1.2x kwokctl and < 15 s: {'met' if ok else 'NOT met'}")
    return 0


def build_seconds_by_component(tc: build.Toolchain) -> dict[str, float]:
    return {e.component: e.build_seconds for e in tc.entries.values()}


if __name__ == "__main__":
    raise SystemExit(main())
