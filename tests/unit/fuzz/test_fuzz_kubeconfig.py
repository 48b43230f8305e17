"""Kubeconfigs, read as pfdrill reads them before a drill: its own reader, then the client's."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import pytest
from fuzzkit import FUZZ, parses_or_refuses, write, yaml_documents  # type: ignore[import-not-found]
from hypothesis import given, settings

from pfdrill.cluster import kubeconfig
from pfdrill.cluster.client import KubeClient

pytestmark = pytest.mark.fuzz

_PEM = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
SEED = f"""\
apiVersion: v1
kind: Config
current-context: kwok-pfdrill
clusters:
  - name: kwok-pfdrill
    cluster:
      server: https://127.0.0.1:32764
      insecure-skip-tls-verify: true
  - name: staging
    cluster:
      server: https://staging.example:6443
      certificate-authority-data: {_PEM}
contexts:
  - name: kwok-pfdrill
    context: {{cluster: kwok-pfdrill, user: kwok-pfdrill}}
  - name: staging-drills
    context:
      cluster: staging
      user: drills
      namespace: production
users:
  - name: kwok-pfdrill
    user: {{token: abc}}
  - name: drills
    user:
      username: drill
      password: not-a-secret
preferences: {{}}
"""
FILE = Path(tempfile.mkdtemp(prefix="pfdrill-fuzz-kubeconfig-")) / "kubeconfig"


def read(path: Path) -> None:
    config = kubeconfig.load(path)
    for name in (None, *config.names()):
        config.context(name)
    KubeClient(path)  # builds the API client; connects to nothing


def test_the_seed_is_valid() -> None:
    read(write(FILE, SEED))
    assert KubeClient(FILE, "staging-drills").context == "staging-drills"


@settings(settings.get_profile(FUZZ))
@given(text=yaml_documents(SEED))
def test_kubeconfigs(text: str) -> None:
    parses_or_refuses(lambda: read(write(FILE, text)), FILE)
