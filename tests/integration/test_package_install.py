"""pfdrill outside this repository: the wheel, installed alone into a fresh venv.

Builds the wheel from a copy of the source tree, installs it with the core
dependencies only (no extras) into a new venv outside the repository, and in
an empty directory runs what a team does first: ``pfdrill init``, ``pfdrill
drill validate``, ``pfdrill fabric render`` and ``pfdrill alerts render``.

Dependencies come from a wheelhouse under pfdrill's cache, filled from PyPI the
first time (pinned by deploy/python/constraints.txt) and used offline after,
so the test measures pfdrill, not the network. The figures are printed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from pfdrill import __version__
from pfdrill.settings import assets
from pfdrill.settings.paths import Paths

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO / "deploy" / "python" / "constraints.txt"
SOURCES = ("pyproject.toml", "README.md", "src", *assets.SHIPPED_DIRS, *assets.SHIPPED_PATTERNS)
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 900) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def _wheelhouse() -> Path:
    key = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:12]
    return Paths.from_env().cache / "wheelhouse" / key


def _offline(*args: str) -> list[str]:
    return [*PIP, *args, "--no-index", "--find-links", str(_wheelhouse()), "-c", str(CONSTRAINTS)]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the venv's bin directory)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:  # a copy, links kept: the build must not write into the checkout
        src = REPO / name
        (shutil.copytree(src, source / name, symlinks=True) if src.is_dir()
         else shutil.copy2(src, source / name))
    house = _wheelhouse()
    if not house.is_dir():
        started = time.monotonic()
        _run([*PIP, "download", "-q", "-d", str(house), "setuptools>=68", "wheel"], cwd=root)
        print(f"\nwheelhouse: build requirements downloaded in {time.monotonic() - started:.0f}s")
    started = time.monotonic()
    _run([*_offline("wheel", "-q", "--no-deps", "-w", str(root / "dist")), str(source)], cwd=root)
    (wheel,) = (root / "dist").glob("pfdrill-*.whl")
    built = time.monotonic() - started
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    install = [*_offline("--python", str(venv / "bin" / "python"), "install", "-q"), str(wheel)]
    started = time.monotonic()
    if subprocess.run(install, cwd=root, capture_output=True, check=False).returncode != 0:
        _run([*PIP, "download", "-q", "-d", str(house), "-c", str(CONSTRAINTS), str(wheel)], cwd=root)
        print(f"wheelhouse: core dependencies downloaded in {time.monotonic() - started:.0f}s")
        started = time.monotonic()
        _run(install, cwd=root)
    print(f"wheel built in {built:.1f}s; core install into a fresh venv in "
          f"{time.monotonic() - started:.1f}s")
    return wheel, venv / "bin"


def _env(bindir: Path) -> dict[str, str]:
    """A user's shell: the venv first, no trace of this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PFDRILL_CONFIG"))}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_wheel_carries_the_repositorys_files_as_they_are(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n[len("pfdrill/assets/"):]: zf.read(n) for n in zf.namelist()
                   if n.startswith("pfdrill/assets/") and not n.endswith("/")}
    expected = {p.relative_to(REPO).as_posix(): p.read_bytes() for d in assets.SHIPPED_DIRS
                for p in (REPO / d).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    expected |= {p.relative_to(REPO).as_posix(): p.read_bytes()
                 for d, pattern in assets.SHIPPED_PATTERNS.items() for p in (REPO / d).glob(pattern)}
    assert sorted(shipped) == sorted(expected)
    assert [n for n in shipped if shipped[n] != expected[n]] == []


def test_a_team_starts_from_an_empty_directory(installed: tuple[Path, Path],
                                              tmp_path: Path) -> None:
    _, bindir = installed
    env = _env(bindir)
    pfdrill = str(bindir / "pfdrill")
    assert _run([pfdrill, "--version"], cwd=tmp_path, env=env).stdout == f"pfdrill {__version__}\n"
    _run([pfdrill, "init"], cwd=tmp_path, env=env)
    assert (tmp_path / "pfdrill.yaml").is_file() and (tmp_path / ".ci" / "run").is_file()
    done = _run([pfdrill, "drill", "validate", "drills/weekly.yaml"], cwd=tmp_path, env=env)
    assert "suite 'weekly', 5 drill(s) valid" in done.stdout
    for target in ("kwok", "kind", "existing"):
        done = _run([pfdrill, "fabric", "render", "--target", target], cwd=tmp_path, env=env)
        kinds = {(o["kind"], o["metadata"]["name"]) for o in yaml.safe_load_all(done.stdout)}
        assert ("Deployment", "sidecar-watcher") in kinds
        assert (("Deployment", "prometheus") in kinds) == (target != "existing")
    _run([pfdrill, "alerts", "render", "--out", "alerts"], cwd=tmp_path, env=env)
    for profile in ("drill", "production"):
        for path in (REPO / "deploy" / "alerts" / profile).rglob("*.y*ml"):
            rel = path.relative_to(REPO / "deploy" / "alerts")
            assert (tmp_path / "alerts" / rel).read_bytes() == path.read_bytes(), rel


def test_what_needs_an_extra_names_it(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, bindir = installed
    done = subprocess.run([str(bindir / "pfdrill"), "load", "run", "--target",
                           "http://127.0.0.1:9", "--duration", "1"], cwd=tmp_path,
                          env=_env(bindir), capture_output=True, text=True, timeout=120,
                          check=False)
    assert (done.returncode, done.stderr) == (3, (
        "pfdrill: error: locust is not installed: it comes with pfdrill's "
        "'load' extra (pip install 'pfdrill[load]')\n"))
