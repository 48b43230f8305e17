"""policy-config: show, drift against git or stored revisions, update, deploy."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from pfctl_support import StubObserver  # type: ignore[import-not-found]

from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import InvalidInput
from pfdrill.pfctl import configrev
from pfdrill.pfctl.context import Context
from pfdrill.runbook.observer import ConfigVerdict, Verdict


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo),
           "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    (r / "policy").mkdir(parents=True)
    git(r, "init", "-q", "-b", "main")
    for mode in ("monitor", "enforce"):
        (r / "policy" / "policy-config.yaml").write_text(yaml.safe_dump(
            {"enforcement_mode": mode, "log_level": "INFO"}))
        git(r, "add", "-A")
        git(r, "commit", "-q", "-m", f"policy: {mode}")
    return r


def test_show_says_what_the_fabric_makes_of_it(ctx: Context, cluster: FakeCluster) -> None:
    shown = configrev.show(ctx)
    assert shown["valid"] and shown["effective"]["enforcement_mode"] == "enforce"
    cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "off"})
    shown = configrev.show(ctx)
    assert not shown["valid"] and "enforcement_mode='off'" in shown["problem"]


def test_drift_against_a_git_revision(make_ctx: Callable[..., Context], repo: Path,
                                      cluster: FakeCluster) -> None:
    ctx = make_ctx(repo=repo)
    cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "disabled"})
    old, where = configrev.baseline(ctx, "HEAD~1")
    assert where == "git HEAD~1:policy/policy-config.yaml"
    assert configrev.diff(old, configrev.current(ctx)) == ["- enforcement_mode: monitor",
                                                          "+ enforcement_mode: disabled"]
    with pytest.raises(InvalidInput, match="--baseline HEAD~9"):
        configrev.baseline(ctx, "HEAD~9")


def test_update_commits_a_revision_and_deploy_applies_it(
        make_ctx: Callable[..., Context], repo: Path, cluster: FakeCluster,
        observer: StubObserver, tmp_path: Path) -> None:
    ctx = make_ctx(repo=repo)
    git(repo, "checkout", "-q", "-b", "hotfix/x")
    hotfix = tmp_path / "hotfix.yaml"
    hotfix.write_text("log_level: DEBUG\nhigh_assurance_mode: true\n")
    r = configrev.update(ctx, hotfix)
    assert r["commit"] and cluster.get_configmap("production", "policy-config")["log_level"] == "INFO"
    assert "revision 1" in git(repo, "log", "-1", "--format=%s", "hotfix/x")
    stored = ctx.store.revision("production", r["revision"])
    assert stored["log_level"] == "DEBUG" and stored["high_assurance_mode"] == "true"
    assert configrev.baseline(ctx, "rev:1")[0] == stored

    d = configrev.deploy(ctx, hotfix)
    live = cluster.get_configmap("production", "policy-config")
    assert (live["log_level"], live["high_assurance_mode"]) == ("DEBUG", "true")
    assert observer.asked == [{"log_level": "DEBUG", "high_assurance_mode": "true"}]
    assert d["watcher"] == "2 pod(s) reloaded"


def test_update_keeps_the_comments_and_layout_of_the_repository_file(
        make_ctx: Callable[..., Context], repo: Path, tmp_path: Path) -> None:
    target = repo / "policy" / "policy-config.yaml"
    target.write_text("# Reviewed by the policy team; see RUNBOOK.md\n"
                      "enforcement_mode: enforce  # never 'disabled' outside an incident\n"
                      "log_level: INFO\n")
    git(repo, "commit", "-qam", "policy: comments")
    change = tmp_path / "change.yaml"
    change.write_text("log_level: DEBUG\n")
    configrev.update(make_ctx(repo=repo), change)
    lines = target.read_text().splitlines()
    assert lines[:3] == ["# Reviewed by the policy team; see RUNBOOK.md",
                         "enforcement_mode: enforce  # never 'disabled' outside an incident",
                         "log_level: DEBUG"]
    assert configrev._mapping(target.read_text(), str(target))["log_level"] == "DEBUG"


def test_a_config_the_fabric_would_refuse_is_not_recorded_or_deployed(
        ctx: Context, cluster: FakeCluster, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("enforcement_mode: off-ish\n")
    for step in (configrev.update, configrev.deploy):
        with pytest.raises(InvalidInput, match="would refuse this policy-config") as err:
            step(ctx, bad)
        assert err.value.file == str(bad)
    assert cluster.get_configmap("production", "policy-config")["enforcement_mode"] == "enforce"
    with pytest.raises(InvalidInput, match="file does not exist"):
        configrev.update(ctx, tmp_path / "missing.yaml")


def test_a_deploy_the_watcher_refuses_fails(ctx: Context, observer: StubObserver,
                                            tmp_path: Path) -> None:
    observer.verdict = ConfigVerdict(Verdict.REFUSED, "policy-config refused: boom")
    f = tmp_path / "f.yaml"
    f.write_text("log_level: DEBUG\n")
    with pytest.raises(InvalidInput, match="refused the deployed config: policy-config refused"):
        configrev.deploy(ctx, f)
