"""Shared fixtures: one kwok drill cluster per test session.

Tests that need a cluster carry ``@pytest.mark.cluster`` and take the
``drill_cluster`` fixture; the first such test starts the cluster (and the
process runtime), every later one reuses it, and the session tears it down.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pfdrill.cluster.client import ClusterClient, KubeClient
from pfdrill.stack.environment import Stack, StackInfo

TEST_CLUSTER = "pfdrill-test"


@dataclasses.dataclass(frozen=True)
class DrillCluster:
    name: str
    kubeconfig: Path
    context: str
    client: ClusterClient
    kubectl: Path
    env: dict[str, str]
    info: StackInfo
    stack: Stack

    @property
    def runtime_dir(self) -> Path:
        return Path(self.info.runtime_dir)


@pytest.fixture(scope="session")
def drill_cluster() -> Iterator[DrillCluster]:
    from pfdrill.toolchain import build

    stack = Stack(name=TEST_CLUSTER)
    tc = build.ensure(progress=print)
    info = stack.up(progress=print)
    kubectl = tc.path("kubectl")
    env = dict(os.environ)
    env["KUBECONFIG"] = info.kubeconfig
    env["PATH"] = f"{kubectl.parent}{os.pathsep}{env.get('PATH', '')}"
    try:
        yield DrillCluster(
            name=TEST_CLUSTER, kubeconfig=Path(info.kubeconfig), context=info.context,
            client=KubeClient(info.kubeconfig, info.context), kubectl=kubectl, env=env,
            info=info, stack=stack)
    finally:
        stack.down(progress=print)
