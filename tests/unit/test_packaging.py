"""pyproject.toml, the lock file and pfdrill.extras tell one story."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pfdrill import __version__, extras

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
LOCK = REPO / "deploy" / "python" / "constraints.txt"
OPTIONAL: dict[str, list[str]] = PYPROJECT["project"]["optional-dependencies"]
EXTRAS_OF_PARTS = ("load", "bdd", "pdf")


def _pins() -> dict[str, str]:
    pins = {}
    for n, line in enumerate(LOCK.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line)
        assert match, f"{LOCK}:{n}: not a 'name==version' pin: {line!r}"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _requirements() -> list[Requirement]:
    named = [*PYPROJECT["project"]["dependencies"], *(r for reqs in OPTIONAL.values() for r in reqs)]
    return [r for r in map(Requirement, named) if canonicalize_name(r.name) != "pfdrill"]


def test_every_dependency_in_pyproject_has_a_pin_its_specifier_accepts() -> None:
    pins = _pins()
    wrong = []
    for req in _requirements():
        pin = pins.get(canonicalize_name(req.name))
        if pin is None or not req.specifier.contains(pin, prereleases=True):
            wrong.append(f"{req} (lock: {pin or 'no pin'})")
    assert not wrong, f"{LOCK.name} disagrees with pyproject.toml: {wrong}; run `make constraints`"


def test_the_lock_does_not_pin_pfdrill_itself() -> None:
    assert "pfdrill" not in _pins()


def test_all_installs_every_part_and_make_installs_all() -> None:
    (everything,) = OPTIONAL["all"]
    assert Requirement(everything).extras == set(EXTRAS_OF_PARTS)
    assert set(OPTIONAL) == {*EXTRAS_OF_PARTS, "all", "dev"}
    makefile = (REPO / "Makefile").read_text()
    assert '-c $(CONSTRAINTS) -e ".[all,dev]"' in makefile
    assert "CONSTRAINTS := deploy/python/constraints.txt" in makefile


def _dists_providing(module: str) -> set[str]:
    return {canonicalize_name(d) for d in importlib.metadata.packages_distributions()[module]}


def _closure(dists: set[str]) -> set[str]:
    """The distributions and everything they require (as installed here)."""
    seen: set[str] = set()
    todo = list(dists)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for raw in importlib.metadata.requires(name) or []:
            req = Requirement(raw)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(req.name))
    return seen


def test_pfdrill_extras_names_the_extra_that_really_brings_each_module() -> None:
    core = _closure({canonicalize_name(Requirement(r).name)
                     for r in PYPROJECT["project"]["dependencies"]})
    for module in extras.EXTRAS:
        assert not _dists_providing(module) & core, f"{module} comes with the core already"
    for extra in EXTRAS_OF_PARTS:
        declared = {canonicalize_name(Requirement(r).name) for r in OPTIONAL[extra]}
        modules = {m for m, e in extras.EXTRAS.items() if e == extra}
        assert modules, f"extra {extra!r} has no module in pfdrill.extras.EXTRAS"
        brought = _closure(declared)
        for module in modules:
            assert _dists_providing(module) & brought, (module, extra)
        provided = set().union(*map(_dists_providing, modules))
        unexplained = declared - provided - core
        assert not unexplained, f"extra {extra!r}: {unexplained} bring no module of EXTRAS"


def test_one_version_string() -> None:
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert "version" not in PYPROJECT["project"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "pfdrill._version.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
