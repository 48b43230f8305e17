"""Fixtures for fault and chaos tests on the kwok drill cluster (imported by those modules).

``faults_fabric`` deploys the reference fabric (CA and fault state in a
temporary state dir), runs steady baseline traffic through locust, and on
teardown stops the traffic and removes the fabric, waiting until its namespace
is really gone so the next module can deploy again. It is module-scoped: the
modules that use it each get a fresh fabric.

If this belongs in ``tests/conftest.py`` as a shared session fixture, it can
move there unchanged (see the report of issue 5).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pfdrill.chaos import target
from pfdrill.errors import ObjectNotFound
from pfdrill.fabric import deploy
from pfdrill.fabric.authority import Authority
from pfdrill.faults.context import FaultContext
from pfdrill.faults.fault import InjectableFault
from pfdrill.faults.kind import FaultKind
from pfdrill.load import runner
from pfdrill.load.plan import LoadPlan
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths

NS = "production"
BASELINE_RATE = 20.0
REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@dataclasses.dataclass(frozen=True)
class FaultsFabric:
    cluster: Any  # tests/conftest.py DrillCluster
    paths: Paths
    watcher_url: str
    configuration: dict[str, str]  # chaostoolkit configuration / --var values
    env: dict[str, str]  # for subprocesses: chaos run, pfdrill fault

    def context(self) -> FaultContext:
        return target.context(self.configuration)

    def kubectl_json(self, *args: str) -> Any:
        done = subprocess.run([str(self.cluster.kubectl), "-n", NS, *args, "-o", "json"],
                              env=self.cluster.env, capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)

    def kubectl_snapshot(self) -> dict[str, Any]:
        """What ``kubectl get`` shows of everything a fault may change."""
        cms = {c["metadata"]["name"]: c.get("data") or {}
               for c in self.kubectl_json("get", "configmaps")["items"]
               if c["metadata"]["name"] != "kube-root-ca.crt"}
        secrets = {s["metadata"]["name"]: {k: base64.b64decode(v) for k, v in (s.get("data") or {}).items()}
                   for s in self.kubectl_json("get", "secrets")["items"]}
        replicas = {d["metadata"]["name"]: d["spec"]["replicas"]
                    for d in self.kubectl_json("get", "deployments")["items"]}
        return {"configmaps": cms, "secrets": secrets, "replicas": replicas}


def _wait_namespace_gone(cluster: Any, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ns = cluster.client.get_object("v1", "Namespace", None, NS)
        if ns is None or (ns.get("status") or {}).get("phase") != "Terminating":
            return
        time.sleep(1.0)
    raise AssertionError(f"namespace {NS} still terminating after {timeout_s}s")


def wait_for(check: Any, timeout: float = 60.0, what: str = "condition", every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@pytest.fixture(scope="module")
def faults_fabric(drill_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultsFabric]:
    paths = Paths(cache=tmp_path_factory.mktemp("cache"), state=tmp_path_factory.mktemp("state"))
    config = Config()
    _wait_namespace_gone(drill_cluster)
    status = deploy.deploy(drill_cluster.client, config=config, paths=paths, timeout_s=180)
    assert status.ready
    address = wait_for(lambda: drill_cluster.info.service_address(NS, "sidecar-watcher"),
                       what="the sidecar-watcher Service proxy")
    url = f"http://{address}"
    configuration = {"pfdrill_kubeconfig": str(drill_cluster.kubeconfig),
                     "pfdrill_context": drill_cluster.context, "pfdrill_state_dir": str(paths.state),
                     "pfdrill_runtime_dir": str(drill_cluster.runtime_dir), "pfdrill_watcher_url": url}
    env = dict(drill_cluster.env)
    env.update({target.KEYS[k]: v for k, v in configuration.items()})
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    load = runner.start(LoadPlan.baseline(url, rate=BASELINE_RATE), Authority.for_context(
        drill_cluster.context, paths), run_dir=paths.state / "baseline-load")
    try:
        load.wait_for_stats(timeout_s=60)
        time.sleep(5)  # a few seconds of history for the first rate windows
        yield FaultsFabric(drill_cluster, paths, url, configuration, env)
    finally:
        load.stop()
        target.forget()
        deploy.undeploy(drill_cluster.client, config=config)
        try:
            _wait_namespace_gone(drill_cluster)
        except ObjectNotFound:
            pass


@pytest.fixture
def no_fault_left(faults_fabric: FaultsFabric) -> Iterator[FaultsFabric]:
    """The fabric ready before the test (its steady-state probe asks exactly that), and
    after it whatever it left injected rolled back, so one failure does not cascade.

    A run that ends in its rollbacks (a failing method, a signal) scales the
    adapter back up but does not wait for it to serve; the next test's ``chaos run``
    would then find no steady state and, rightly, inject nothing (CI, 2026-12-03).
    """
    wait_for(lambda: faults_fabric.context().readiness(True).ok, timeout=180,
             what="the fabric to be ready before the test")
    yield faults_fabric
    ctx = faults_fabric.context()
    for state in ctx.store.active(ctx.context, ctx.namespace):
        InjectableFault(FaultKind.parse(state.fault), ctx, key=state.key).rollback()
