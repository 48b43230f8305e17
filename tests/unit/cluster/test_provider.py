from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pfdrill.cluster import provider
from pfdrill.cluster.existing import ExistingProvider
from pfdrill.cluster.kwok import KwokProvider
from pfdrill.cluster.provider import ProviderKind
from pfdrill.errors import InvalidInput, SafetyRefused
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths


def test_unknown_provider_is_bad_input() -> None:
    with pytest.raises(InvalidInput, match="unknown provider 'minikube'"):
        ProviderKind.parse("minikube")
    assert ProviderKind.parse("KWOK") is ProviderKind.KWOK


def test_registry_builds_each_provider(tmp_path: Path) -> None:
    p = provider.create(ProviderKind.KWOK, name="x", paths=Paths(tmp_path, tmp_path))
    assert isinstance(p, KwokProvider) and p.context() == "kwok-x"


def test_kwokctl_config_gives_every_binary_locally(tmp_path: Path) -> None:
    bins = {n: tmp_path / n for n in ("kube-apiserver", "kube-controller-manager", "kube-scheduler",
                                       "kubectl", "etcd", "kwok", "kwokctl", "metrics-server")}
    p = KwokProvider("x", paths=Paths(tmp_path, tmp_path), binaries=bins, kube_version="v1.36.1",
                     etcd_version="v3.6.10")
    opts = p.kwokctl_config()["options"]
    assert isinstance(opts, dict)
    binaries = {k: v for k, v in opts.items() if k.endswith("Binary")}
    assert set(binaries) >= {"kubeApiserverBinary", "kubeControllerManagerBinary", "kubeSchedulerBinary",
                             "kubectlBinary", "etcdBinary", "kwokControllerBinary"}
    assert all(str(v).startswith(str(tmp_path)) for v in binaries.values())
    assert opts["bindAddress"] == "127.0.0.1" and opts["runtime"] == "binary"
    assert opts["etcdVersion"] == "3.6.10"


def test_bad_cluster_name_and_node_count(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        KwokProvider("Bad_Name", paths=Paths(tmp_path, tmp_path))
    with pytest.raises(InvalidInput):
        KwokProvider("ok", paths=Paths(tmp_path, tmp_path), nodes=0)


def _kubeconfig(path: Path, contexts: list[str]) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": contexts[0],
        "clusters": [{"name": c, "cluster": {"server": "https://127.0.0.1:1"}} for c in contexts],
        "users": [{"name": c, "user": {"token": "x"}} for c in contexts],
        "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in contexts],
    }))
    return path


def test_existing_refuses_a_context_off_the_allow_list(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "kc", ["prod-eu", "staging-drills"])
    with pytest.raises(SafetyRefused, match="'prod-eu' is not on the allow-list"):
        ExistingProvider(kubeconfig=kc, config=Config())
    p = ExistingProvider(kubeconfig=kc, context="staging-drills",
                         config=Config(allowed_contexts=("staging-drills",)))
    assert p.context() == "staging-drills"


def test_existing_missing_or_broken_kubeconfig_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="kubeconfig file does not exist"):
        ExistingProvider(kubeconfig=tmp_path / "missing")
    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n")
    with pytest.raises(InvalidInput, match="broken"):
        ExistingProvider(kubeconfig=broken)
    kc = _kubeconfig(tmp_path / "kc", ["a"])
    with pytest.raises(InvalidInput, match="context 'b' is not in this kubeconfig"):
        ExistingProvider(kubeconfig=kc, context="b", config=Config(allowed_contexts=("b",)))
