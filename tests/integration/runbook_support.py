"""Shared set-up for the runbook and pfctl integration tests: fabric + observability on kwok.

Until shared fixtures for the deployed fabric and the sink exist, these
module-scoped helpers deploy the reference fabric (with a CA in a temporary
state dir, which pfctl finds through ``$PFDRILL_STATE_DIR``) and start the
observability stack (Prometheus, Alertmanager, sink) for the drill cluster.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pfdrill.detect import pipeline
from pfdrill.errors import ClusterError
from pfdrill.fabric import deploy
from pfdrill.obs import rules
from pfdrill.runbook.inputs import Environment
from pfdrill.runbook.observer import KubectlLogObserver, Verdict
from pfdrill.settings.config import Config, load_config
from pfdrill.settings.paths import Paths

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "runbooks" / "policy-enforcement-incident-response.md"


@dataclasses.dataclass(frozen=True)
class Drill:
    cluster: Any  # the drill_cluster fixture's DrillCluster
    env: Environment
    paths: Paths
    config: Config

    def reset(self) -> None:
        """Re-apply the fabric's manifests: enforce, two watchers, the reference policy.

        Returns once the watchers run the manifest's policy-config, not just once the
        ConfigMap says so (they reload it a moment later).
        """
        client = self.cluster.client
        try:
            before = client.get_configmap("production", "policy-config")
        except ClusterError:
            before = {}
        since = dt.datetime.now(dt.UTC)
        status = deploy.deploy(client, config=self.config, paths=self.paths, timeout_s=180)
        assert status.ready
        after = client.get_configmap("production", "policy-config")
        if before and before != after:
            observer = KubectlLogObserver(self.env.kubectl, self.cluster.env, "production",
                                          "app=sidecar-watcher")
            seen = observer.config_verdict(since, after, 30)
            assert seen.verdict is not Verdict.REFUSED, seen.detail


def drill_environment(drill_cluster: Any, tmp: Path) -> Iterator[Drill]:
    paths = Paths(cache=tmp / "cache", state=tmp / "state")
    config = load_config()  # $PFDRILL_CONFIG may allow-list another test cluster
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PFDRILL_STATE_DIR", str(paths.state))
        ep = pipeline.up(drill_cluster.name, "drill", paths=paths,
                         targets_file=drill_cluster.runtime_dir / "targets.json")
        try:
            env = Environment(
                kubeconfig=str(drill_cluster.kubeconfig), context=drill_cluster.context,
                namespace="production", sink_url=ep.sink_url or "",
                prometheus_url=ep.prometheus_url, alertmanager_url=ep.alertmanager_url or "",
                rules_file=str(Path(ep.rules_dir or "") / rules.RENDERED_FILE),
                kubectl=str(drill_cluster.kubectl), runtime_dir=str(drill_cluster.runtime_dir))
            drill = Drill(drill_cluster, env, paths, config)
            drill.reset()
            yield drill
        finally:
            deploy.undeploy(drill_cluster.client, config=config)
            pipeline.down(drill_cluster.name, paths)
