"""The files of a new drill repository: planned first, then written all or nothing.

The reference material is what pfdrill ships (the weekly suite, the runbook
and its operator inputs, the Gherkin features), copied as it is; the rest
comes from ``templates/`` filled with pfdrill's own defaults (the allow-list
of :mod:`pfdrill.settings.config`, the version), so nothing here restates them.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import os
import string
from pathlib import Path

from pfdrill._version import __version__
from pfdrill.errors import InvalidInput
from pfdrill.settings import assets
from pfdrill.settings.config import Config

SUITE = "drills/weekly.yaml"
RUNBOOK = "runbooks/policy-enforcement-incident-response.md"
CONFIG = "pfdrill.yaml"
CI = ".ci/run"
GATE = ".ci/gate"  # deploy/ci/gate.sh: `pfdrill gate` for any CI system


@dataclasses.dataclass(frozen=True)
class File:
    path: str  # relative to the repository root
    content: bytes
    executable: bool = False


def _template(name: str, values: dict[str, str]) -> bytes:
    text = importlib.resources.files("pfdrill.scaffold").joinpath("templates", name).read_text(
        encoding="utf-8")
    return string.Template(text).substitute(values).encode("utf-8")


def _shipped(top: str, pattern: str = "**/*") -> list[File]:
    root = assets.path(top)
    return [File(f"{top}/{p.relative_to(root).as_posix()}", p.read_bytes())
            for p in sorted(root.glob(pattern)) if p.is_file()]


def plan(config: Config | None = None) -> list[File]:
    """Every file ``pfdrill init`` writes, with its content."""
    cfg = config or Config()
    values = {
        "allowed_contexts": "[" + ", ".join(f'"{c}"' for c in cfg.allowed_contexts) + "]",
        "optin_label": cfg.optin_label, "namespace": cfg.namespace,
        "suite": SUITE, "runbook": RUNBOOK, "version": __version__,
    }
    shipped = [f for f in _shipped("drills") if f.path == SUITE]
    shipped += [f for f in _shipped("runbooks")
                if f.path == RUNBOOK or f.path.startswith("runbooks/seed-inputs/")]
    shipped += _shipped("features", "*.feature")
    return [
        File(CONFIG, _template("pfdrill.yaml.tmpl", values)),
        *shipped,
        File("features/conftest.py", _template("conftest.py.tmpl", values)),
        File("features/test_features.py", _template("test_features.py.tmpl", values)),
        File("pytest.ini", _template("pytest.ini.tmpl", values)),
        File(CI, _template("ci-run.tmpl", values), executable=True),
        File(GATE, assets.path("deploy", "ci", "gate.sh").read_bytes(), executable=True),
        File("README.md", _template("README.md.tmpl", values)),
        File(".gitignore", _template("gitignore.tmpl", values)),
    ]


def write(target: Path, files: list[File], *, force: bool = False) -> list[Path]:
    """Write ``files`` under ``target``; refuse before writing anything if one exists."""
    existing = [f.path for f in files if (target / f.path).exists()]
    if existing and not force:
        shown = ", ".join(existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise InvalidInput(f"would overwrite {shown} (pass --force to overwrite)", file=target)
    written = []
    for f in files:
        path = target / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.content)
        if f.executable:
            os.chmod(path, 0o755)
        written.append(path)
    return written
