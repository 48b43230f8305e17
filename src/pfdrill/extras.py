"""The optional parts of pfdrill and the extra that installs each.

The core (``pip install pfdrill``) scaffolds, validates and renders: a team's
drill repository, drill files, scenarios, runbooks, the fabric's manifests and
the alert rules, and runs drills (it parses Prometheus text and serves the
notification sink, which is all the reference fabric's services need too).
What else a part needs comes with one extra per part::

    load    locust                       traffic generation (its own process)
    bdd     pytest, pytest-bdd           the Gherkin step library
    pdf     matplotlib                   post-mortem PDFs (pfctl)
    all     all of the above             (``make`` installs this)

A missing one is one line naming the extra, not a traceback:
:func:`explain` turns the ``ModuleNotFoundError`` into
:class:`~pfdrill.errors.MissingExtra`; :func:`require` checks before a process
is spawned that would need it.
"""

from __future__ import annotations

import importlib.util

from pfdrill.errors import MissingExtra

# Top-level module → the extra whose packages bring it (checked against pyproject.toml).
# aiohttp and prometheus_client are not here: the core requires both.
EXTRAS: dict[str, str] = {
    "locust": "load",
    "gevent": "load",
    "pytest": "bdd",
    "_pytest": "bdd",
    "pytest_bdd": "bdd",
    "matplotlib": "pdf",
}


def explain(exc: ModuleNotFoundError) -> MissingExtra | None:
    """The one-line error for a module an extra provides; None for anything else."""
    module = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(module)
    if extra is None:
        return None
    return MissingExtra(f"{module} is not installed: it comes with pfdrill's '{extra}' extra "
                        f"(pip install 'pfdrill[{extra}]')")


def require(module: str) -> None:
    """Raise :class:`MissingExtra` now if ``module`` cannot be imported."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        found = False
    if not found:
        missing = explain(ModuleNotFoundError(name=module))
        if missing is None:
            raise ValueError(f"{module!r} is not a module of an extra")
        raise missing
