"""Which faults and outcome checks a change to pfdrill's own source touches.

A drill uses one fault (by name) and a few check kinds. The fault's code is
its driver's module, found through the fault registry
(:data:`pfdrill.faults.registry.DRIVERS`, keyed by
:class:`~pfdrill.faults.kind.FaultKind`), plus every fault or chaos module
that module imports, transitively (the import graph from :mod:`grimp`, which
import-linter is built on), plus the chaostoolkit layer every injection goes
through. The check kinds all live in :mod:`pfdrill.drill.checks`; a change
inside one kind's functions touches that kind, a change anywhere else in the
module touches every kind.

Paths are matched by their ``pfdrill/...`` tail, so ``src/pfdrill/faults/dfa.py``
in the project's own repository names the module the gate itself runs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

from pfdrill.drill import checks
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.registry import DRIVERS
from pfdrill.model.drill import CheckKind

FAULT_PACKAGES = ("pfdrill.faults", "pfdrill.chaos", "pfdrill.load")
ALWAYS = ("pfdrill.chaos",)  # every fault is injected as a chaostoolkit experiment


def module_of(path: str) -> str | None:
    """The pfdrill module a repository path holds, or None (``src/pfdrill/x/y.py`` → ``pfdrill.x.y``)."""
    p = PurePosixPath(path)
    if p.suffix != ".py" or "pfdrill" not in p.parts:
        return None
    parts = list(p.parts[p.parts.index("pfdrill"):])
    parts[-1] = p.stem
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _inside(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


@functools.cache
def fault_modules() -> dict[str, frozenset[str]]:
    """Fault name → the modules its injection runs."""
    import grimp

    graph = grimp.build_graph("pfdrill")
    always = {m for m in graph.modules if _inside(m, ALWAYS)}
    out: dict[str, frozenset[str]] = {}
    for kind in FaultKind:
        module = type(DRIVERS[kind]).__module__
        used = {m for m in graph.find_upstream_modules(module) if _inside(m, FAULT_PACKAGES)}
        out[kind.value] = frozenset({module, *used, *always})
    return out


def faults_touched(changed: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Fault name → the changed files (repo paths) among its code."""
    by_module = {m: path for path in changed if (m := module_of(path)) is not None}
    out: dict[str, tuple[str, ...]] = {}
    for name, modules in fault_modules().items():
        hit = tuple(sorted(path for m, path in by_module.items() if m in modules))
        if hit:
            out[name] = hit
    return out


@functools.cache
def check_lines() -> dict[CheckKind, frozenset[int]]:
    """Check kind → the lines of :mod:`pfdrill.drill.checks` its own functions span."""
    out: dict[CheckKind, frozenset[int]] = {}
    for kind, impl in checks.KINDS.items():
        lines: set[int] = set()
        for fn in (impl.validate, impl.observe):
            source, start = inspect.getsourcelines(fn)
            lines.update(range(start, start + len(source)))
        out[kind] = frozenset(lines)
    return out


def checks_touched(changed: Iterable[str],
                   lines_changed: Callable[[str], frozenset[int]]) -> dict[CheckKind, str]:
    """Check kind → the changed file that holds its code (``lines_changed(path)``: the changed
    lines of that file at the head)."""
    path = next((p for p in changed if module_of(p) == checks.__name__), None)
    if path is None:
        return {}
    lines = lines_changed(path)
    spans = check_lines()
    own = {kind for kind, span in spans.items() if lines & span}
    shared = lines - frozenset().union(*spans.values())
    kinds = set(spans) if shared or not lines else own
    return {kind: path for kind in sorted(kinds, key=lambda k: k.value)}
