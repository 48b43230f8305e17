"""A suite without --context follows the user's kubeconfig: each drill reads it again."""

from __future__ import annotations

from pathlib import Path

import yaml

from pfdrill.drill.wiring import StackEnvironmentFactory


def _kubeconfig(path: Path, current: str) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": n, "context": {"cluster": "c", "user": "u"}}
                     for n in ("staging-drills", "prod-eu")]}))
    return path


def test_without_context_the_kubeconfig_is_read_again(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path / "kubeconfig", "staging-drills")
    follow = StackEnvironmentFactory(provider="existing", kubeconfig=path)._followed_context()
    assert follow() == "staging-drills"
    _kubeconfig(path, "prod-eu")  # kubectl config use-context prod-eu, mid-suite
    assert follow() == "prod-eu"


def test_a_pinned_context_or_pfdrills_own_cluster_follows_nothing(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path / "kubeconfig", "staging-drills")
    pinned = StackEnvironmentFactory(provider="existing", kubeconfig=path, context="staging-drills")
    assert pinned._followed_context()() is None
    assert StackEnvironmentFactory()._followed_context()() is None
