"""No Go, or a Go too old for the build: one line saying which Go and how to get it.

The go command is a fake on PATH here (a shell script answering what the build asks);
the real one runs in tests/integration/test_toolchain_errors.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pfdrill.cli import main
from pfdrill.errors import ToolchainError
from pfdrill.settings.paths import Paths
from pfdrill.toolchain import build, gobuild
from pfdrill.toolchain.versions import Versions

FakeGo = Callable[..., None]
GOMOD = """module k8s.io/kubernetes

go 1.26.0

replace (
	k8s.io/api => ./staging/src/k8s.io/api
)
"""


@pytest.fixture
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeGo:
    """Install ``go`` answering as Go ``version`` would; return a function to do so."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (tmp_path / "k8s.mod").write_text(GOMOD)
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setattr(gobuild, "GO_FALLBACKS", ())
    monkeypatch.delenv("GOTOOLCHAIN", raising=False)

    def install(version: str, *, install_error: str = "") -> None:
        script = bindir / "go"
        script.write_text(f"""#!/bin/sh
case "$1 $2" in
  "env GOVERSION") echo {version} ;;
  "mod download") echo '{{"GoMod": "{tmp_path / "k8s.mod"}"}}' ;;
  "install "*) echo '{install_error}' >&2; exit 1 ;;
  *) echo "fake go: unexpected $*" >&2; exit 2 ;;
esac
""")
        script.chmod(0o755)

    return install


def _paths(tmp_path: Path) -> Paths:
    return Paths(cache=tmp_path / "cache", state=tmp_path / "state")


def test_no_go_says_which_go_to_install(tmp_path: Path, fake_go: FakeGo, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PFDRILL_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["toolchain", "ensure"]) == 3
    err = capsys.readouterr().err
    assert err == ("pfdrill: error: Go is not installed (no 'go' on PATH): the cluster binaries are "
                   "built from Go modules and need Go >= 1.26.0; install it from https://go.dev/dl/ "
                   "and put its bin/ on PATH (Debian 12's golang-go is 1.19, too old)\n")
    assert not (tmp_path / "cache" / "toolchain" / "manifest.json").exists()


def test_a_go_older_than_kubernetes_needs_names_gotoolchain(tmp_path: Path, fake_go: FakeGo) -> None:
    fake_go("go1.24.3")
    with pytest.raises(ToolchainError) as err:
        build.ensure(paths=_paths(tmp_path), components=(build.Component.KUBERNETES,))
    assert str(err.value) == (
        "building Kubernetes v1.36.1 needs Go >= 1.26.0, but go1.24.3 is installed: install Go "
        ">= 1.26.0 from https://go.dev/dl/, or let this Go fetch it from the module proxy: "
        "GOTOOLCHAIN=go1.26.0 pfdrill toolchain ensure (or GOTOOLCHAIN=go1.26.0 make)")


def test_a_go_too_old_to_switch_toolchains_only_says_install(tmp_path: Path, fake_go: FakeGo) -> None:
    fake_go("go1.19.8")
    with pytest.raises(ToolchainError, match=r"but go1\.19\.8 is installed: install Go >= 1\.26\.0 "
                                             r"from https://go\.dev/dl/$"):
        build.ensure(paths=_paths(tmp_path), components=(build.Component.KUBERNETES,))


def test_gotoolchain_set_by_the_user_lets_go_decide(tmp_path: Path, fake_go: FakeGo,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fake_go("go1.24.3")
    monkeypatch.setenv("GOTOOLCHAIN", "go1.26.0")
    # past the version check, the fake refuses the next step: proof the check let it through
    with pytest.raises(ToolchainError, match=r"failed: fake go: unexpected mod tidy"):
        build.ensure(paths=_paths(tmp_path), components=(build.Component.KUBERNETES,))


def test_gos_own_too_old_refusal_becomes_the_same_line(tmp_path: Path, fake_go: FakeGo) -> None:
    fake_go("go1.22.1", install_error="go: sigs.k8s.io/kind@v0.33.0 requires go >= 1.24.0 "
                                      "(running go 1.22.1; GOTOOLCHAIN=local)")
    with pytest.raises(ToolchainError) as err:
        build.ensure(paths=_paths(tmp_path), components=(build.Component.KIND,))
    assert str(err.value) == (
        "building kind v0.33.0 needs Go >= 1.24.0, but go1.22.1 is installed: install Go >= "
        "1.24.0 from https://go.dev/dl/, or let this Go fetch it from the module proxy: "
        "GOTOOLCHAIN=go1.24.0 pfdrill toolchain ensure (or GOTOOLCHAIN=go1.24.0 make)")


def test_the_kubernetes_release_has_its_go_listed() -> None:
    assert Versions().go == "1.26.0"
    assert Versions(kubernetes="v1.99.0").go == ""
