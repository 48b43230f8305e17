"""Every overlay is accepted by a real API server as `kubectl apply -k` would send it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = [pytest.mark.cluster]

REPO = Path(__file__).resolve().parents[2]


def _namespace(target: str) -> dict[str, Any]:
    from pfdrill.fabric import kustomize

    objects = kustomize.build(REPO / "deploy" / "overlays" / target)
    (namespace,) = (o for o in objects if o["kind"] == "Namespace")
    return namespace


@pytest.mark.parametrize("target", ["kwok", "kind", "existing"])
def test_the_overlay_passes_a_server_side_dry_run(target: str, drill_cluster: Any) -> None:
    # A dry run creates nothing, so the objects in the namespace need it to exist (as it does
    # on a cluster that drills: opted in, or created by pfdrill fabric deploy). Apply the
    # overlay's own Namespace for real, idempotently; everything else only dry-runs.
    namespace = subprocess.run([str(drill_cluster.kubectl), "apply", "-f", "-"],
                               input=yaml.safe_dump(_namespace(target)), env=drill_cluster.env,
                               capture_output=True, text=True, timeout=120, check=False)
    assert namespace.returncode == 0, namespace.stderr
    done = subprocess.run([str(drill_cluster.kubectl), "apply", "-k",
                           str(REPO / "deploy" / "overlays" / target), "--dry-run=server"],
                          env=drill_cluster.env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    for obj in ("namespace/production", "configmap/dfa-artifact", "configmap/policy-adapter-config",
                "deployment.apps/sidecar-watcher", "deployment.apps/policy-adapter"):
        assert f"{obj} " in done.stdout and "(server dry run)" in done.stdout, done.stdout
    assert ("deployment.apps/prometheus " in done.stdout) == (target != "existing")


def test_in_cluster_alerting_passes_a_server_side_dry_run(drill_cluster: Any, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The kind overlay with the Alertmanager component and a config pfdrill writes."""
    import shutil

    from pfdrill.cli import main

    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    overlay = tmp_path / "deploy" / "overlays" / "kind-alerting"
    overlay.mkdir()
    assert main(["obs", "alertmanager-config", "--sink-url", "http://10.0.0.5:9099"]) == 0
    (overlay / "alertmanager.yml").write_text(capsys.readouterr().out)
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": ["../kind"], "components": ["../../components/alertmanager"],
        "configMapGenerator": [{"name": "alertmanager-config", "namespace": "production",
                                "files": ["alertmanager.yml"]}],
        "generatorOptions": {"disableNameSuffixHash": True}}))
    namespace = subprocess.run([str(drill_cluster.kubectl), "apply", "-f", "-"],
                               input=yaml.safe_dump(_namespace("kind")), env=drill_cluster.env,
                               capture_output=True, text=True, timeout=120, check=False)
    assert namespace.returncode == 0, namespace.stderr
    done = subprocess.run([str(drill_cluster.kubectl), "apply", "-k", str(overlay),
                           "--dry-run=server"], env=drill_cluster.env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    for obj in ("configmap/alertmanager-config", "configmap/pfdrill-alert-rules",
                "service/alertmanager", "deployment.apps/alertmanager",
                "deployment.apps/prometheus"):
        assert f"{obj} " in done.stdout, done.stdout
