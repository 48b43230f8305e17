"""Start a locust run in its own process(es) and watch it from the pfdrill process.

::

    from pfdrill.fabric.authority import Authority
    from pfdrill.load import plan, runner

    p = plan.LoadPlan.baseline("http://127.0.0.1:8080", rate=50)
    with runner.start(p, Authority.for_context("kwok-pfdrill")) as run:
        time.sleep(30)
        print(run.stats().summary())          # live
    print(run.final.summary())                # after stop()

``workers=N`` uses locust's distributed mode: one master (no users, merges
statistics) and N worker processes on this machine. To spread load over
several machines instead, run ``pfdrill load run --master --expect-workers N``
here and ``python -m locust -f <locustfile> --worker --master-host <this host>``
with the same ``PFDRILL_LOAD_PLAN``/``PFDRILL_LOAD_IDENTITIES`` files there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from pfdrill import extras
from pfdrill.errors import EnvironmentProblem
from pfdrill.fabric.authority import Authority
from pfdrill.load.plan import LoadPlan, TrafficKind
from pfdrill.load.stats import LoadStats
from pfdrill.load.traffic import IdentitySet
from pfdrill.proc import lineage, ports

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
CLASS_NAMES = {
    TrafficKind.COMPLIANT: "CompliantUser",
    TrafficKind.VIOLATING: "ViolatingUser",
    TrafficKind.UNAUTHENTICATED: "UnauthenticatedUser",
    TrafficKind.TAMPERED_WITNESS: "TamperedWitnessUser",
}


class LoadRun:
    """A running load; ``stats()`` while it runs, ``stop()`` for the final figures."""

    def __init__(self, plan: LoadPlan, run_dir: Path, procs: list[subprocess.Popen[bytes]],
                 owns_dir: bool) -> None:
        self.plan = plan
        self.run_dir = run_dir
        self.stats_path = run_dir / "stats.json"
        self.log_path = run_dir / "locust.log"
        self._procs = procs
        self._owns_dir = owns_dir
        self.final: LoadStats | None = None

    @property
    def running(self) -> bool:
        return self._procs[0].poll() is None

    def stats(self) -> LoadStats | None:
        """The latest statistics (written every second); None before the first write."""
        return LoadStats.read(self.stats_path)

    def wait_for_stats(self, timeout_s: float = 30.0) -> LoadStats:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = self.stats()
            if got is not None and got.requests > 0:
                return got
            if not self.running:
                break
            time.sleep(0.2)
        raise EnvironmentProblem(f"locust produced no statistics (see {self.log_path}): {self._tail()}")

    def wait(self, timeout_s: float | None = None) -> LoadStats:
        """Wait for a run with a duration to end by itself; returns the final statistics."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._procs[0].wait(timeout=timeout_s)
        return self.stop()

    def stop(self, timeout_s: float = 15.0) -> LoadStats:
        """Stop every locust process (SIGTERM: locust writes its last figures) and return them."""
        for proc in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self._procs:
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        final = self.stats()
        if final is None:
            raise EnvironmentProblem(f"locust wrote no statistics (see {self.log_path}): {self._tail()}")
        self.final = final
        return final

    def cleanup(self) -> None:
        if self._owns_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def _tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-3:]) or "(empty log)"

    def __enter__(self) -> LoadRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.final is None:
            with contextlib.suppress(EnvironmentProblem):
                self.stop()


def start(
    plan: LoadPlan,
    authority: Authority,
    *,
    run_dir: Path | None = None,
    workers: int = 0,
    identities: IdentitySet | None = None,
) -> LoadRun:
    """Start locust against ``plan.target`` with identities issued by ``authority``."""
    extras.require("locust")  # in one line here, not as a traceback in locust.log
    owns = run_dir is None
    directory = Path(tempfile.mkdtemp(prefix="pfdrill-load-")) if run_dir is None else run_dir
    directory.mkdir(parents=True, exist_ok=True)
    plan_path, ids_path = directory / "plan.json", directory / "identities.json"
    plan.save(plan_path)
    (identities or IdentitySet.issue(authority)).save(ids_path)
    (directory / "stats.json").unlink(missing_ok=True)
    env = dict(os.environ, PFDRILL_LOAD_PLAN=str(plan_path), PFDRILL_LOAD_IDENTITIES=str(ids_path),
               PFDRILL_LOAD_STATS=str(directory / "stats.json"), PYTHONUNBUFFERED="1")
    classes = [CLASS_NAMES[k] for k in TrafficKind if plan.users(k) > 0]
    users = plan.total_users
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING",
            "--skip-log-setup"]
    common = ["--headless", "-u", str(users), "-r", str(users), "--host", plan.target,
              "--stop-timeout", "2", "--only-summary"]
    if plan.duration_s is not None:
        common += ["--run-time", f"{max(1, round(plan.duration_s))}s"]
    log = (directory / "locust.log").open("ab")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if workers <= 0:
            procs.append(subprocess.Popen([*base, *common, *classes], env=env, cwd=directory,
                                          stdout=log, stderr=subprocess.STDOUT,
                                          preexec_fn=lineage.die_with_parent))
        else:
            port = ports.free_port()
            master = [*base, *common, "--master", "--master-bind-host", "127.0.0.1",
                      "--master-bind-port", str(port), "--expect-workers", str(workers), *classes]
            procs.append(subprocess.Popen(master, env=env, cwd=directory, stdout=log,
                                          stderr=subprocess.STDOUT,
                                          preexec_fn=lineage.die_with_parent))
            worker_env = {k: v for k, v in env.items() if k != "PFDRILL_LOAD_STATS"}
            for _ in range(workers):
                cmd = [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
                       *classes]
                procs.append(subprocess.Popen(cmd, env=worker_env, cwd=directory, stdout=log,
                                              stderr=subprocess.STDOUT,
                                              preexec_fn=lineage.die_with_parent))
    finally:
        log.close()
    return LoadRun(plan, directory, procs, owns)
