"""The ``drill_cluster`` fixture: one embedded kwok drill cluster per pytest session.

Shipped with the plugin so that features anywhere (this repository's
``features/`` and ``tests/``, or a user's own project) get a real cluster from
``pfdrill``: the first test that asks starts the cluster and the process
runtime, every later one reuses it, the session tears it down. The name is
``pfdrill-test`` unless ``--pfdrill-cluster`` says otherwise.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pfdrill.cluster.client import ClusterClient
    from pfdrill.stack.lifecycle import Stack, StackInfo


@dataclasses.dataclass(frozen=True)
class DrillCluster:
    name: str
    kubeconfig: Path
    context: str
    client: ClusterClient
    kubectl: Path
    env: dict[str, str]  # KUBECONFIG, PATH with kubectl and the state dir, for subprocesses
    info: StackInfo
    stack: Stack

    @property
    def runtime_dir(self) -> Path:
        return Path(self.info.runtime_dir)


@pytest.fixture(scope="session")
def drill_cluster(request: pytest.FixtureRequest) -> Iterator[DrillCluster]:
    from pfdrill.cluster.client import KubeClient
    from pfdrill.stack.lifecycle import Stack
    from pfdrill.toolchain import build

    name = str(request.config.getoption("--pfdrill-cluster"))
    stack = Stack(name=name)
    tc = build.ensure(progress=print)
    info = stack.up(progress=print)
    kubectl = tc.path("kubectl")
    env = dict(os.environ)
    env["KUBECONFIG"] = info.kubeconfig
    env["PATH"] = f"{kubectl.parent}{os.pathsep}{env.get('PATH', '')}"
    # A `pfdrill ... --name <cluster>` subprocess finds the cluster in this state dir only.
    env["PFDRILL_STATE_DIR"] = str(stack.paths.state)
    try:
        yield DrillCluster(
            name=name, kubeconfig=Path(info.kubeconfig), context=info.context,
            client=KubeClient(info.kubeconfig, info.context), kubectl=kubectl, env=env,
            info=info, stack=stack)
    finally:
        if not request.config.getoption("--pfdrill-keep-cluster"):
            stack.down(progress=print)
