"""The package data is the repository's own files: one copy to edit, all of it shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.settings import assets

REPO = Path(__file__).resolve().parents[3]
LINKS = REPO / "src" / "pfdrill" / "assets"


def _tree(root: Path, pattern: str = "**/*") -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.glob(pattern)) if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.parametrize("name", assets.SHIPPED_DIRS)
def test_each_shipped_directory_is_a_link_to_the_top_level_one(name: str) -> None:
    link = LINKS / name
    assert link.is_symlink(), f"{link} must stay a link to ../../../{name}, not a copy"
    assert link.resolve() == (REPO / name).resolve()
    assert _tree(assets.path(name)) == _tree(REPO / name)


@pytest.mark.parametrize(("name", "pattern"), sorted(assets.SHIPPED_PATTERNS.items()))
def test_each_shipped_file_of_a_patterned_directory_is_linked(name: str, pattern: str) -> None:
    shipped = LINKS / name
    top = sorted(p.name for p in (REPO / name).glob(pattern))
    assert sorted(p.name for p in shipped.iterdir()) == top, \
        f"link every {name}/{pattern} into {shipped} (ln -s ../../../../{name}/X {shipped}/)"
    assert all((shipped / n).is_symlink() for n in top)
    assert _tree(assets.path(name)) == _tree(REPO / name, pattern)


def test_paths_resolve_inside_the_installed_package() -> None:
    import pfdrill

    assert assets.root() == Path(pfdrill.__file__).parent / "assets"
    assert (assets.path("deploy", "overlays", "kind") / "kustomization.yaml").is_file()


def test_every_shipped_file_matches_a_package_data_pattern() -> None:
    """A file type setuptools would leave out of the wheel fails here, not in the wheel test."""
    import fnmatch
    import tomllib

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["*"]
    files = [p for d in assets.SHIPPED_DIRS for p in (REPO / d).rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    files += [p for d, pattern in assets.SHIPPED_PATTERNS.items() for p in (REPO / d).glob(pattern)]
    left_out = [str(p.relative_to(REPO)) for p in files
                if not any(fnmatch.fnmatch(p.name, pattern) for pattern in patterns)]
    assert left_out == [], f"add a pattern to [tool.setuptools.package-data] for {left_out}"
