"""Finding past report directories (``reports/<run-id>/``) and reading them back."""

from __future__ import annotations

from pathlib import Path

from pfdrill.errors import InvalidInput
from pfdrill.model.result import SuiteResult
from pfdrill.report import bundle


def runs(root: Path) -> list[Path]:
    """Report directories under ``root``, oldest first (by when their bundle was written)."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if (p / bundle.EVIDENCE).is_file()]
    return sorted(found, key=lambda p: ((p / bundle.EVIDENCE).stat().st_mtime_ns, p.name))


def find(root: Path, run: str | None) -> Path:
    """The directory of ``run`` (a run id, a unique prefix, or a path); the latest if None."""
    if run is not None and Path(run).is_dir() and (Path(run) / bundle.EVIDENCE).is_file():
        return Path(run)
    found = runs(root)
    if not found:
        raise InvalidInput("no drill reports here yet (run `pfdrill drill run` first)", file=root)
    if run is None:
        return found[-1]
    matches = [p for p in found if p.name.startswith(run)]
    if len(matches) != 1:
        what = "no" if not matches else "more than one"
        raise InvalidInput(f"{what} report matches {run!r} (have: "
                           f"{', '.join(p.name for p in found[-5:])})", file=root)
    return matches[0]


def load(directory: Path) -> SuiteResult:
    try:
        return bundle.load(directory)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"not a readable pfdrill evidence bundle: {exc}",
                           file=directory / bundle.EVIDENCE) from None
