"""The detection pipeline brought up together: notification sink, Alertmanager, Prometheus.

The sink comes first (Alertmanager posts to it, Prometheus scrapes its
baselines), then the observability stack pointed at it. Everything lives
under ``<state>/obs/<cluster>/``; the sink's journal in ``sink/journal.jsonl``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pfdrill.model.fabric import RuntimeFiles
from pfdrill.obs import profile as profiles
from pfdrill.obs.stack import ComponentStatus, Endpoints, ObsStack
from pfdrill.proc.daemon import Daemon
from pfdrill.runtime import reconciler
from pfdrill.settings import Paths
from pfdrill.sink import service
from pfdrill.sink.client import SinkClient

SINK_START_TIMEOUT_S = 20.0


def default_targets(cluster: str, paths: Paths | None = None) -> Path:
    """Where the process runtime writes Prometheus file-SD targets (RUNTIME-CONTRACT.md)."""
    return RuntimeFiles((paths or Paths.from_env()).state / "runtime" / cluster).targets


def sink_dir(cluster: str, paths: Paths | None = None) -> Path:
    return ObsStack(cluster, paths).directory / "sink"


def _sink_daemon(directory: Path) -> Daemon:
    return Daemon("sink", directory)


def start_sink(directory: Path, host: str = "127.0.0.1", port: int = 0) -> service.Endpoint:
    """Start a detached sink keeping its state in ``directory`` (or find the running one)."""
    daemon = _sink_daemon(directory)
    current = service.read_endpoint(directory)
    pid = daemon.pid()
    if (pid is not None and current is not None and current.pid == pid
            and SinkClient(current.url).healthy()):
        return current
    if pid is None:
        (directory / service.ENDPOINT_FILE).unlink(missing_ok=True)  # left by a killed sink
    pid = daemon.start(service.argv(directory, host, port))

    def ready() -> bool:
        found = service.read_endpoint(directory)
        return found is not None and found.pid == pid and SinkClient(found.url).healthy()

    daemon.wait_until(ready, SINK_START_TIMEOUT_S, "answering")
    found = service.read_endpoint(directory)
    assert found is not None
    return found


def stop_sink(directory: Path) -> bool:
    stopped = _sink_daemon(directory).stop()
    (directory / service.ENDPOINT_FILE).unlink(missing_ok=True)
    return stopped


@dataclasses.dataclass(frozen=True)
class PipelineStatus:
    cluster: str
    endpoints: Endpoints | None
    components: tuple[ComponentStatus, ...]

    @property
    def up(self) -> bool:
        return all(c.ready for c in self.components)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster, "up": self.up,
            "endpoints": self.endpoints.to_dict() if self.endpoints else None,
            "components": [c.to_dict() for c in self.components],
        }


def up(cluster: str, profile: str = "drill", *, targets_file: Path | None = None,
       paths: Paths | None = None, rules_source: Path | None = None) -> Endpoints:
    """Sink, Alertmanager and Prometheus for ``cluster``; idempotent."""
    prof = profiles.get(profile)
    sink = start_sink(sink_dir(cluster, paths))
    targets = targets_file or default_targets(cluster, paths)
    ep = ObsStack(cluster, paths).up(prof, targets_file=targets, sink_url=sink.url,
                                  rules_source=rules_source)
    if RuntimeFiles(targets.parent).running():
        # The targets come from a kwok process runtime: its 'prometheus' stand-in pods
        # (kubectl port-forward svc/prometheus) now reach this Prometheus.
        reconciler.set_stand_in(targets.parent, "prometheus", ep.prometheus_url.split("://", 1)[-1].rstrip("/"))
    return ep


def down(cluster: str, paths: Paths | None = None) -> list[str]:
    stopped = ObsStack(cluster, paths).down()
    if stop_sink(sink_dir(cluster, paths)):
        stopped.append("sink")
    return stopped


def status(cluster: str, paths: Paths | None = None) -> PipelineStatus:
    stack = ObsStack(cluster, paths)
    directory = sink_dir(cluster, paths)
    sink_pid = _sink_daemon(directory).pid()
    endpoint = service.read_endpoint(directory) if sink_pid else None
    sink = ComponentStatus(
        "sink", sink_pid, endpoint.url if endpoint else None,
        bool(endpoint and SinkClient(endpoint.url).healthy()),
    )
    return PipelineStatus(cluster, stack.endpoints(), (*stack.status(), sink))
