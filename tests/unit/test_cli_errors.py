"""Bad input to the CLI: one line on stderr naming what is wrong, a distinct exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pfdrill.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    return code, err


def test_unknown_provider(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "cluster", "up", "--provider", "minikube")
    assert code == 2 and err == "pfdrill: error: unknown provider 'minikube': expected one of kwok, kind, existing"


def test_missing_kubeconfig(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = _run(capsys, "cluster", "up", "--provider", "existing", "--kubeconfig", str(tmp_path / "nope"))
    assert code == 2 and err.endswith("nope: kubeconfig file does not exist") and "\n" not in err


def test_context_not_on_allow_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    kc = tmp_path / "kubeconfig"
    kc.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "prod",
        "clusters": [{"name": "prod", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "prod", "user": {"token": "t"}}],
        "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "prod"}}]}))
    code, err = _run(capsys, "cluster", "up", "--provider", "existing", "--kubeconfig", str(kc))
    assert code == 4 and "context 'prod' is not on the allow-list" in err and "\n" not in err
