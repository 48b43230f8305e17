"""Kubeconfigs read by pfdrill before the Kubernetes client: mistakes name their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.cluster import kubeconfig
from pfdrill.errors import InvalidInput

GOOD = """apiVersion: v1
current-context: a
clusters:
  - name: one
    cluster: {server: "https://127.0.0.1:6443"}
contexts:
  - name: a
    context: {cluster: one, user: u, namespace: production}
  - name: b
    context: {cluster: two}
users:
  - name: u
    user: {token: t}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    return path


def test_contexts_clusters_and_servers(tmp_path: Path) -> None:
    config = kubeconfig.load(_write(tmp_path, GOOD))
    assert config.names() == ("a", "b") and config.current == "a"
    assert config.context().namespace == "production"
    assert config.server_of("a") == "https://127.0.0.1:6443"


@pytest.mark.parametrize(("text", "line", "message"), [
    (GOOD.replace("current-context: a", "current-context: c"), 2,
     "context 'c' is not in this kubeconfig (has: a, b)"),
    (GOOD.replace('cluster: {server: "https://127.0.0.1:6443"}', "cluster: {}"), 5,
     "cluster 'one' has no 'server'"),
    (GOOD.replace("  - name: b\n", "  - name: a\n"), 9, "contexts[1]: 'a' is defined twice"),
    (GOOD.replace("contexts:\n", "contexts: 3\nx:\n"), 6, "'contexts' must be a list"),
    (GOOD.replace("users:\n  - name: u", "users:\n  - nam: u"), 12, "users[0] needs a 'name'"),
    (GOOD + "  - {name: [x]}\n", 14, "users[1] needs a 'name'"),
    ("clusters: [\n", 2, "not valid YAML"),
])
def test_mistakes_name_their_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InvalidInput) as err:
        kubeconfig.load(path).context()
    assert (err.value.file, err.value.line) == (str(path), line), err.value.one_line()
    assert message in err.value.message


def test_a_context_naming_a_missing_cluster_is_refused_when_chosen(tmp_path: Path) -> None:
    config = kubeconfig.load(_write(tmp_path, GOOD))
    with pytest.raises(InvalidInput, match=r":9: context 'b' names cluster 'two', which is not"):
        config.context("b")
