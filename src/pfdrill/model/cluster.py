"""Plain records for what pfdrill reads back from a cluster."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class PodInfo:
    namespace: str
    name: str
    uid: str
    phase: str
    ready: bool
    restarts: int
    node: str
    labels: dict[str, str]
    annotations: dict[str, str]
    deleting: bool = False
    owner: str = ""  # "ReplicaSet/sidecar-watcher-5d9c..." or ""
    ip: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PodInfo:
        return cls(**d)


@dataclasses.dataclass(frozen=True)
class DeploymentState:
    namespace: str
    name: str
    replicas: int  # desired (spec)
    ready: int
    available: int
    updated: int
    observed_generation: int
    generation: int
    # Pods of every revision (status.replicas); None when not reported. Mid-rollout
    # the old revision's ready pods make ``ready == replicas`` true while a new pod
    # is still starting: only "no pod of an old revision left" ends a rollout.
    current: int | None = None

    @property
    def settled(self) -> bool:
        """The rollout is complete, as ``kubectl rollout status`` judges it.

        The controller has seen the latest spec, every desired replica runs the
        latest template and is ready *and available* (ready for the Deployment's
        ``minReadySeconds``: kwok marks a new pod Ready before its process answers,
        and ``readyReplicas`` alone counted it), and no pod of an older revision is
        left. :mod:`pfdrill.fabric.readiness` adds the pods, endpoints and /readyz.
        """
        return (
            self.observed_generation >= self.generation
            and self.ready == self.replicas
            and self.available >= self.replicas
            and self.updated == self.replicas
            and (self.current is None or self.current == self.replicas)
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DeploymentState:
        return cls(**d)


@dataclasses.dataclass(frozen=True)
class EventInfo:
    namespace: str
    reason: str
    message: str
    kind: str  # involved object kind
    name: str  # involved object name
    type: str  # Normal | Warning
    last_timestamp: str
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EventInfo:
        return cls(**d)


@dataclasses.dataclass(frozen=True)
class ClusterStatus:
    """What ``pfdrill cluster status`` reports."""

    name: str
    provider: str
    context: str
    kubeconfig: str
    running: bool
    server: str = ""
    nodes: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["nodes"] = list(self.nodes)
        d["components"] = list(self.components)
        return d
