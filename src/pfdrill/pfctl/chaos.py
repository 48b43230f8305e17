"""``pfctl chaos update``: the schedule of chaos scenarios, kept in the incident store.

A scenario must exist: a chaostoolkit experiment in the configured
scenarios directory (by file stem or title), or, without one, a fault the
drill engine's catalog knows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from pfdrill.errors import InvalidInput
from pfdrill.pfctl.context import Context

FREQUENCIES = ("hourly", "daily", "weekly", "monthly")


def _scenarios(directory: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for p in sorted(directory.glob("*")):
        if p.suffix not in (".json", ".yaml", ".yml"):
            continue
        found[p.stem] = str(p)
        try:
            doc = json.loads(p.read_text()) if p.suffix == ".json" else yaml.safe_load(p.read_text())
        except (ValueError, yaml.YAMLError, OSError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("title"), str):
            found[doc["title"]] = str(p)
    return found


def _known(ctx: Context) -> dict[str, str]:
    if ctx.env.scenarios_dir and Path(ctx.env.scenarios_dir).is_dir():
        return _scenarios(Path(ctx.env.scenarios_dir))
    for base in (ctx.cwd, *ctx.cwd.parents, *Path(__file__).resolve().parents):
        if (base / "scenarios").is_dir() and any((base / "scenarios").iterdir()):
            return _scenarios(base / "scenarios")
    return {}


def update(ctx: Context, scenario: str, frequency: str) -> dict[str, Any]:
    if frequency not in FREQUENCIES:
        raise InvalidInput(f"--frequency {frequency!r} is not one of {', '.join(FREQUENCIES)}")
    known = _known(ctx)
    if known and scenario not in known:
        raise InvalidInput(f"unknown scenario {scenario!r} (known: {', '.join(sorted(known))})")
    ctx.store.set_chaos(scenario, frequency)
    return {"scenario": scenario, "frequency": frequency,
            "source": known.get(scenario, "no scenarios directory: recorded by name")}
