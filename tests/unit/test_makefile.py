"""`make` on a machine that lacks what it needs: one clear line, before anything is installed.

The real Makefile runs with PATH holding only fake commands in a temp dir.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make") or "/usr/bin/make"
APT_COMMANDS = ("prometheus", "prometheus-alertmanager", "promtool", "amtool", "pkill", "git",
                "fuser", "ss", "curl", "chromium", "shellcheck")


def _fake(bindir: Path, name: str, body: str = "exit 0") -> None:
    bindir.mkdir(exist_ok=True)
    (bindir / name).write_text(f"#!/bin/sh\n{body}\n")
    (bindir / name).chmod(0o755)


def _make(bindir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAKE, "--no-print-directory", "-C", str(REPO), *args],
                          env={"PATH": str(bindir), "HOME": str(bindir.parent)},
                          capture_output=True, text=True, timeout=60, check=False)


def _our_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln for ln in done.stderr.splitlines() if not ln.startswith("make")]


def test_no_apt_and_missing_commands_names_the_packages(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    _fake(bindir, "git")
    done = _make(bindir, "apt")
    assert done.returncode != 0
    missing = " ".join(c for c in APT_COMMANDS if c != "git")
    assert _our_lines(done) == [
        f"error: no apt-get here, and {missing} not found: install (Debian names) prometheus "
        "prometheus-alertmanager procps git psmisc iproute2 curl chromium shellcheck with this "
        "system's "
        "package manager"]


def test_no_apt_but_every_command_present_is_fine(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    for name in APT_COMMANDS:
        _fake(bindir, name)
    done = _make(bindir, "apt")
    assert done.returncode == 0, done.stderr
    assert "==> no apt-get; the commands pfdrill needs are on PATH" in done.stdout


def test_not_root_without_sudo_says_what_to_run_as_root(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    _fake(bindir, "apt-get")
    _fake(bindir, "dpkg", 'case "$2" in git|curl) exit 0;; *) exit 1;; esac')
    _fake(bindir, "id", "echo 1000")
    done = _make(bindir, "apt")
    assert done.returncode != 0
    assert _our_lines(done) == ["error: not root and no sudo: as root, run apt-get install "
                                "prometheus prometheus-alertmanager procps psmisc iproute2 "
                                "chromium shellcheck"]


@pytest.mark.parametrize(("version", "line"), [
    ("3.9", "error: {py} is Python 3.9; pfdrill needs Python >= 3.11: install one and run "
            "make PYTHON=python3.11"),
    ("3.10", "error: {py} is Python 3.10; pfdrill needs Python >= 3.11: install one and run "
             "make PYTHON=python3.11"),
])
def test_an_old_python_is_refused_before_a_venv_exists(tmp_path: Path, version: str,
                                                       line: str) -> None:
    bindir = tmp_path / "bin"
    _fake(bindir, "python3", f"echo {version}")
    venv = tmp_path / "venv"
    done = _make(bindir, "venv", f"PYTHON={bindir / 'python3'}", f"VENV={venv}")
    assert done.returncode != 0
    assert _our_lines(done) == [line.format(py=bindir / "python3")]
    assert not venv.exists()


def test_no_python_at_all(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    done = _make(bindir, "venv", f"VENV={tmp_path / 'venv'}")
    assert _our_lines(done) == [
        "error: no Python at 'python3': pfdrill needs Python >= 3.11 (Debian 12: apt-get install "
        "python3 python3-venv), or run make PYTHON=/path/to/python3.11"]
