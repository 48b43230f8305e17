"""Chaos scenario names → the drills that exercise them.

A runbook says ``pfctl chaos update --scenario "policy_adapter_failure"``; the
schedule runs drills. The table ``scenarios.yaml`` (data, beside this module)
maps the names runbooks use to the fault catalog's; a name is also accepted
as a catalog fault, a chaostoolkit scenario file's name, or a drill name.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path
from typing import TYPE_CHECKING

from pfdrill.errors import InvalidInput
from pfdrill.faults.kind import FaultKind
from pfdrill.formats import yamldoc

if TYPE_CHECKING:
    from pfdrill.schedule.spec import ScheduleSpec


@functools.cache
def aliases() -> dict[str, str]:
    """Normalised runbook name → catalog fault name (checked against the catalog on load)."""
    text = importlib.resources.files("pfdrill.schedule").joinpath("scenarios.yaml").read_text(
        encoding="utf-8")
    raw = yamldoc.loads(text, "scenarios.yaml").root or {}
    known = {k.value for k in FaultKind}
    table = {normalise(str(k)): str(v) for k, v in raw.items()}
    bad = sorted(v for v in table.values() if v not in known)
    if bad:  # a packaging mistake, not user input: fail loudly
        raise RuntimeError(f"scenarios.yaml names faults the catalog lacks: {', '.join(bad)}")
    return table


def normalise(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def fault_of(name: str) -> str | None:
    """The catalog fault a scenario name stands for, if any."""
    key = normalise(name)
    if key in {k.value for k in FaultKind}:
        return key
    return aliases().get(key)


def known_names() -> list[str]:
    return sorted({*aliases(), *(k.value for k in FaultKind)})


def resolve(name: str, spec: ScheduleSpec) -> list[tuple[Path, str]]:
    """``(suite file, drill name)`` of every drill in the schedule's suites that ``name`` means."""
    suites = spec.suites()
    by_drill = [(f, d.name) for f, s in suites.items() for d in s.drills if d.name == name]
    if by_drill:
        return by_drill
    fault = fault_of(name)
    if fault is None:
        raise InvalidInput(f"unknown scenario {name!r}: not a drill of the scheduled suites, a "
                           f"fault of the catalog, or a name in the scenario table (known: "
                           f"{', '.join(known_names())})")
    found = [(f, d.name) for f, s in suites.items() for d in s.drills if d.fault.name == fault]
    if not found:
        raise InvalidInput(f"scenario {name!r} is fault {fault!r}, but no suite the schedule "
                           f"runs has a drill of it (suites: "
                           f"{', '.join(s.name for s in suites.values())})")
    return found
