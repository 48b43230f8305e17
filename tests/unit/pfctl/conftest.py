"""A fake cluster holding the reference fabric's objects, and a pfctl context on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from pfctl_support import StubObserver  # type: ignore[import-not-found]

from pfdrill.cluster.fake import FakeCluster
from pfdrill.fabric import certs, dfa
from pfdrill.fabric.authority import Authority
from pfdrill.fabric.rules import RULES_KEY
from pfdrill.pfctl.context import Context, StaticLogs
from pfdrill.pfctl.settings import EnvSettings

REPO = Path(__file__).resolve().parents[3]
DFA = (REPO / "deploy" / "fabric" / "dfa.json").read_bytes()
RULES = (REPO / "deploy" / "fabric" / "adapter-rules.yaml").read_text()


@pytest.fixture
def authority() -> Authority:
    return Authority.generate()


@pytest.fixture
def cluster(authority: Authority) -> FakeCluster:
    c = FakeCluster(context="kwok-test")
    c.add_namespace("production", {"pfdrill.dev/drills": "enabled"})
    c.add_configmap("production", "policy-config", {"enforcement_mode": "enforce",
                                                    "log_level": "INFO"})
    c.add_configmap("production", "dfa-artifact", {dfa.DFA_KEY: DFA.decode(),
                                                   dfa.SHA_KEY: dfa.digest_line(DFA)})
    c.add_configmap("production", "policy-adapter-config", {RULES_KEY: RULES})
    c.add_secret("production", "fabric-certs",
                 {certs.BUNDLE_KEY: authority.bundle().to_json().encode()})
    c.add_deployment("production", "sidecar-watcher", 2)
    c.add_deployment("production", "policy-adapter", 1)
    return c


@pytest.fixture
def observer() -> StubObserver:
    return StubObserver()


@pytest.fixture
def make_ctx(tmp_path: Path, cluster: FakeCluster,
             observer: StubObserver) -> Callable[..., Context]:
    def make(logs: Mapping[str, Mapping[str, str]] | None = None, repo: Path | None = None,
             **env: str) -> Context:
        settings = EnvSettings(name="production", context="kwok-test", **env)
        return Context(env=settings, state_dir=tmp_path / "state", client_factory=lambda: cluster,
                       logs=StaticLogs(logs or {}), repo=repo, cwd=tmp_path,
                       observers=lambda selector: observer)
    return make


@pytest.fixture
def ctx(make_ctx: Callable[..., Context]) -> Context:
    return make_ctx()
