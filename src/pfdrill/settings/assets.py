"""The files pfdrill ships: manifests, alert rules, thresholds, the reference runbook.

They are package data under ``pfdrill/assets/`` and read with
:mod:`importlib.resources`, so an installed pfdrill finds them wherever it runs.
The repository's top-level directories stay the one source a person edits:
``src/pfdrill/assets/`` holds symbolic links to them (``deploy``, ``runbooks``,
``drills`` and each ``features/*.feature``), which the wheel build turns into
copies. ``tests/unit/settings/test_assets.py`` fails when a link is missing or
has been replaced by a diverging copy; the wheel test checks what the wheel holds.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from pfdrill.errors import EnvironmentProblem

# Top-level repository directories shipped whole, and those shipped by file pattern.
SHIPPED_DIRS = ("deploy", "drills", "runbooks")
SHIPPED_PATTERNS = {"features": "*.feature"}


def root() -> Path:
    """``pfdrill/assets`` of the installed package, as a directory on disk.

    kubectl and promtool read these files by path, so a zipped install (where
    resources are not files) is refused with a clear message.
    """
    found = importlib.resources.files("pfdrill").joinpath("assets")
    if not isinstance(found, Path) or not found.is_dir():
        raise EnvironmentProblem(
            f"pfdrill's package data is not a directory on disk ({found}); "
            "install pfdrill unzipped (pip install, not a zipapp)")
    return found


def path(*parts: str) -> Path:
    """A shipped file or directory, e.g. ``path("deploy", "overlays", "kind")``."""
    return root().joinpath(*parts)
