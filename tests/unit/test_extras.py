"""Without an extra, the core works and what needs the extra says so in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pfdrill import extras
from pfdrill.errors import MissingExtra

REPO = Path(__file__).resolve().parents[2]
# Runs a console entry point with the modules of every extra unimportable, as in a venv
# where only `pip install pfdrill` ran (None in sys.modules: "not installed" to every importer).
BLOCKED = """
import sys
sys.modules.update(dict.fromkeys({blocked!r}))
sys.argv[0] = {prog!r}
from {module} import {function}
sys.exit({function}())
"""


def _run(entry: str, *args: str, blocked: set[str] | None = None,
         cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    module, function = entry.split(":")
    code = BLOCKED.format(blocked=blocked if blocked is not None else set(extras.EXTRAS),
                          prog=function, module=module, function=function)
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120, check=False)


def test_the_core_validates_and_renders_without_any_extra(tmp_path: Path) -> None:
    done = _run("pfdrill.cli:entrypoint", "drill", "validate", "drills/weekly.yaml")
    assert done.returncode == 0, done.stderr
    done = _run("pfdrill.cli:entrypoint", "fabric", "render", "--target", "kind")
    assert done.returncode == 0 and "kind: Deployment" in done.stdout, done.stderr
    done = _run("pfdrill.cli:entrypoint", "alerts", "render", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr


def test_load_generation_without_its_extra_is_one_line() -> None:
    done = _run("pfdrill.cli:entrypoint", "load", "run", "--target", "http://127.0.0.1:9",
                "--duration", "1")
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        "pfdrill: error: locust is not installed: it comes with pfdrill's 'load' extra "
        "(pip install 'pfdrill[load]')"]


def test_other_missing_modules_stay_tracebacks() -> None:
    done = _run("pfdrill.cli:entrypoint", "drill", "validate", "drills/weekly.yaml",
                blocked={"jsonschema"})
    assert done.returncode == 1 and "Traceback" in done.stderr


@pytest.mark.parametrize(("module", "extra"), sorted(extras.EXTRAS.items()))
def test_every_extra_module_is_explained(module: str, extra: str) -> None:
    found = extras.explain(ModuleNotFoundError(name=f"{module}.sub"))
    assert isinstance(found, MissingExtra)
    assert str(found) == (f"{module} is not installed: it comes with pfdrill's '{extra}' extra "
                          f"(pip install 'pfdrill[{extra}]')")
    assert extras.explain(ModuleNotFoundError(name="yaml")) is None


def test_require_passes_for_what_is_installed_and_names_the_extra_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    extras.require("locust")
    monkeypatch.setitem(sys.modules, "pytest_bdd", None)  # import system: "not installed"
    with pytest.raises(MissingExtra, match=r"pfdrill\[bdd\]"):
        extras.require("pytest_bdd")
