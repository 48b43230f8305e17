from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput, ToolchainError
from pfdrill.settings.paths import Paths
from pfdrill.toolchain import build, gobuild
from pfdrill.toolchain.manifest import Manifest
from pfdrill.toolchain.versions import Versions


def test_versions_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PFDRILL_KUBERNETES_VERSION", "1.35.4")
    v = Versions.from_env()
    assert v.kubernetes == "v1.35.4" and v.staging == "v0.35.4"
    monkeypatch.setenv("PFDRILL_ETCD_VERSION", "latest")
    with pytest.raises(InvalidInput, match="PFDRILL_ETCD_VERSION='latest'"):
        Versions.from_env()


def test_manifest_detects_a_changed_binary(tmp_path: Path) -> None:
    binary = tmp_path / "kubectl"
    binary.write_bytes(b"\x7fELF" + b"x" * 100)
    m = Manifest(tmp_path)
    m.record("kubectl", "kubernetes", "v1.36.1", binary, 1.0)
    assert Manifest(tmp_path).get("kubectl", "v1.36.1") is not None
    assert Manifest(tmp_path).get("kubectl", "v1.35.0") is None
    binary.write_bytes(b"\x7fELF" + b"y" * 101)
    assert Manifest(tmp_path).get("kubectl", "v1.36.1") is None


def test_kube_ldflags_stamp_the_release() -> None:
    flags = gobuild.kube_ldflags("v1.36.1")
    assert "-X k8s.io/component-base/version.gitVersion=v1.36.1" in flags
    assert "-X k8s.io/client-go/pkg/version.gitMinor=36" in flags


def test_load_without_a_build_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="missing: kube-apiserver"):
        build.load(paths=Paths(cache=tmp_path, state=tmp_path))


def test_missing_go_is_a_toolchain_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(gobuild.Path, "exists", lambda self: False)
    with pytest.raises(ToolchainError, match=r"^Go is not installed \(no 'go' on PATH\)"):
        gobuild.go_binary()
