"""A toolchain build failure is a one-line error and exit 3 (the real go command runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_unservable_version_fails_in_one_line(tmp_path: Path) -> None:
    env = dict(os.environ, PFDRILL_CACHE_DIR=str(tmp_path), PFDRILL_KIND_VERSION="v0.0.1")
    done = subprocess.run([sys.executable, "-m", "pfdrill", "toolchain", "ensure", "--only", "kind"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 3
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("pfdrill: error: building kind v0.0.1 failed:")
    assert not (tmp_path / "toolchain" / "manifest.json").exists()


def test_unknown_component_is_bad_input(tmp_path: Path) -> None:
    env = dict(os.environ, PFDRILL_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "pfdrill", "toolchain", "ensure", "--only", "minikube"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == ("pfdrill: error: unknown component(s) minikube: expected kubernetes, "
                                   "etcd, kwok, kind, metrics-server, prometheus")


def test_the_go_listed_for_kubernetes_is_what_its_go_mod_asks(tmp_path: Path) -> None:
    """Versions.go (told to a machine without Go) is the go line of the real go.mod."""
    import re

    from pfdrill.toolchain import gobuild
    from pfdrill.toolchain.versions import Versions

    versions = Versions()
    (tmp_path / "go.mod").write_text("module pfdrill.local/probe\n\ngo 1.22\n")
    gomod = gobuild.module_gomod("k8s.io/kubernetes", versions.kubernetes, workdir=tmp_path,
                                 progress=lambda _m: None)
    found = re.search(r"^go (\S+)", gomod, re.MULTILINE)
    assert found is not None and found.group(1) == versions.go
