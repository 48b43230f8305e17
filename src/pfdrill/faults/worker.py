"""Background processes a fault leaves running: generated traffic, a pod killer.

A fault injected by ``pfdrill fault inject`` or by one ``chaos run`` must keep
acting after that process returns, and be stoppable by a *later* process
(``pfdrill fault rollback``, a drill's restore). So the work runs as a
detached process (own session: a Ctrl-C meant for the caller does not reach
it) started as ``python -m pfdrill.faults.worker <dir>/spec.json``; its
directory name is a random token that also appears in its command line, so
:func:`stop` only ever signals that very process, never a recycled pid. Every
worker stops by itself after ``max_seconds``, so an orphan cannot run forever.

Roles:

- ``traffic``: one or more locust runs (:mod:`pfdrill.load.runner`), each with
  its own plan and identities; live statistics land in ``status.json``.
- ``pod_killer``: deletes the pods matching a selector every ``interval_s``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from pfdrill.errors import EnvironmentProblem
from pfdrill.faults.change import Worker
from pfdrill.proc.daemon import Daemon

SPEC = "spec.json"
STATUS = "status.json"
LOG = "worker.log"
DEFAULT_MAX_S = 3600.0


def new_token(role: str) -> str:
    return f"pfdrill-{role}-{secrets.token_hex(6)}"


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def read_status(directory: str | Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((Path(directory) / STATUS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def _daemon(directory: str | Path) -> Daemon:
    return Daemon("worker", Path(directory))  # worker.pid (pid + start time), worker.log


def spawn(role: str, token: str, directory: Path, spec: dict[str, Any], description: str,
          wait_s: float = 60.0) -> Worker:
    """Start a worker and wait until it reports ``started`` (or fails)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    spec_path = directory / SPEC
    _write_json(spec_path, {**spec, "role": role, "token": token})
    daemon = _daemon(directory)
    pid = daemon.start([sys.executable, "-m", "pfdrill.faults.worker", str(spec_path)])
    worker = Worker(role=role, token=token, pid=pid, directory=str(directory),
                    description=description)
    try:
        daemon.wait_until(lambda: bool(read_status(directory).get("started"))
                          or bool(read_status(directory).get("error")), wait_s, "started")
    except EnvironmentProblem as exc:
        stop(worker)
        raise EnvironmentProblem(f"{role} worker failed to start: {exc}") from None
    error = read_status(directory).get("error")
    if error:
        stop(worker)
        raise EnvironmentProblem(f"{role} worker failed to start: {error}")
    return worker


def _is_ours(pid: int, token: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return token.encode() in cmdline


def _find(token: str) -> list[int]:
    """Pids whose command line carries ``token`` (a worker recorded before its pid was)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and _is_ours(int(entry.name), token):
            found.append(int(entry.name))
    return found


def alive(worker: Worker) -> bool:
    return _daemon(worker.directory).pid() is not None or bool(_find(worker.token))


def stop(worker: Worker, timeout_s: float = 25.0) -> bool:
    """SIGTERM the worker (it stops its own children), SIGKILL its group if it lingers.

    Returns True when a running worker was stopped, False when none was left. A
    worker killed before its pidfile was written is still found by its token.
    """
    stopped = _daemon(worker.directory).stop(timeout_s, group=False)
    for pid in _find(worker.token):  # an orphan the pidfile never named
        stopped = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    return stopped


# --- the worker process -----------------------------------------------------------------

def _traffic(spec: dict[str, Any], directory: Path, stop_event: threading.Event) -> None:
    from pfdrill.fabric.authority import Authority
    from pfdrill.load import runner
    from pfdrill.load.plan import LoadPlan
    from pfdrill.load.traffic import IdentitySet

    runs = []
    try:
        for i, item in enumerate(spec["runs"]):
            plan = LoadPlan.from_dict(item["plan"])
            ids = IdentitySet.from_dict(item["identities"])
            # The identities are given; this throw-away CA only satisfies the signature.
            runs.append(runner.start(plan, Authority.generate(), run_dir=directory / f"run{i}",
                                     identities=ids))
        for run in runs:
            run.wait_for_stats(timeout_s=60)
        _write_json(directory / STATUS, {"started": True, "pid": os.getpid(),
                                          "runs": [str(r.run_dir) for r in runs]})
        while not stop_event.wait(1.0):
            live = [r.stats() for r in runs]
            _write_json(directory / STATUS, {
                "started": True, "pid": os.getpid(), "runs": [str(r.run_dir) for r in runs],
                "stats": [s.to_dict() if s else None for s in live]})
            if not any(r.running for r in runs):
                break
    finally:
        finals = []
        for run in runs:
            with contextlib.suppress(EnvironmentProblem):
                finals.append(run.stop().to_dict())
        _write_json(directory / "final.json", finals)


def _pod_killer(spec: dict[str, Any], directory: Path, stop_event: threading.Event) -> None:
    from pfdrill.cluster.client import KubeClient
    from pfdrill.errors import ClusterError

    client = KubeClient(spec["kubeconfig"], spec["context"])
    namespace, selector = spec["namespace"], spec["selector"]
    interval = float(spec.get("interval_s", 2.0))
    deleted: list[str] = []
    _write_json(directory / STATUS, {"started": True, "pid": os.getpid(), "deleted": deleted})
    while True:
        with contextlib.suppress(ClusterError):
            for pod in client.list_pods(namespace, selector):
                if not pod.deleting:
                    with contextlib.suppress(ClusterError):
                        client.delete_pod(namespace, pod.name, grace_seconds=0)
                        deleted.append(pod.name)
        _write_json(directory / STATUS, {"started": True, "pid": os.getpid(), "deleted": deleted})
        if stop_event.wait(interval):
            return


ROLES = {"traffic": _traffic, "pod_killer": _pod_killer}


def main(argv: list[str]) -> int:
    spec_path = Path(argv[0])
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    directory = spec_path.parent
    stop_event = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_event.set())
    timer = threading.Timer(float(spec.get("max_seconds", DEFAULT_MAX_S)), stop_event.set)
    timer.daemon = True
    timer.start()
    try:
        ROLES[spec["role"]](spec, directory, stop_event)
    except Exception as exc:
        _write_json(directory / STATUS, {"error": f"{type(exc).__name__}: {exc}"})
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
