"""In-cluster configuration from a ServiceAccount directory that may be anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pfdrill.cluster import incluster
from pfdrill.cluster.client import KubeClient
from pfdrill.errors import InvalidInput


def _sa(tmp_path: Path) -> Path:
    d = tmp_path / "sa"
    d.mkdir()
    (d / "token").write_text("tok-1")
    (d / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
    (d / "namespace").write_text("production")
    return d


def test_the_directory_comes_from_the_env_and_makes_a_kubeconfig(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = _sa(tmp_path)
    env = {incluster.DIR_ENV: str(d), incluster.HOST_ENV: "127.0.0.1",
           incluster.PORT_ENV: "6443"}
    sa = incluster.ServiceAccountFiles.from_env(env)
    assert sa.available() and sa.server == "https://127.0.0.1:6443"
    path = sa.write_kubeconfig(tmp_path / "kc" / "kubeconfig")
    cfg = yaml.safe_load(path.read_text())
    assert cfg["users"] == [{"name": "in-cluster", "user": {"tokenFile": str(d / "token")}}]
    assert cfg["contexts"][0]["context"]["namespace"] == "production"
    assert "tok-1" not in path.read_text()
    assert incluster.ServiceAccountFiles.from_env({}).directory == incluster.STANDARD_DIR
    # the client reads the files the override names, not the kubelet's fixed path
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    client = KubeClient(path)
    assert client.context == "in-cluster" and client.server == "https://127.0.0.1:6443"
    assert client.api_client.configuration.api_key["BearerToken"] == "bearer tok-1"


def test_outside_a_pod_in_cluster_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="KUBERNETES_SERVICE_HOST"):
        incluster.ServiceAccountFiles.from_env({}).check()
    with pytest.raises(InvalidInput, match="no token"):
        incluster.ServiceAccountFiles(tmp_path, "h", "1").check()


def test_service_links() -> None:
    env = {"SIDECAR_WATCHER_SERVICE_HOST": "10.0.0.7", "SIDECAR_WATCHER_SERVICE_PORT": "8080"}
    assert incluster.service_address("sidecar-watcher", env) == "10.0.0.7:8080"
    assert incluster.service_address("policy-adapter", env) is None
