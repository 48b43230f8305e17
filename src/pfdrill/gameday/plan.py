"""A game day's plan: a drill file (``drills/*.yaml``) with a ``gameday:`` block.

The drills are read, validated and checked by :mod:`pfdrill.drill.suitefile`
exactly as for ``pfdrill drill run`` — a game day plays the same drills. The
``gameday:`` block (``gameday.schema.json``) adds what only people need: the
order of the injects, what the room is told, prepared hints, and per-measure
budgets. Every problem is one :class:`~pfdrill.errors.InvalidInput` naming
file and line, before anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pfdrill.drill import suitefile
from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc
from pfdrill.model.drill import DrillSpec
from pfdrill.model.gameday import GameDayPlan, InjectPlan
from pfdrill.model.sla import TimingProfile
from pfdrill.model.timeline import Phase
from pfdrill.model.watch import Measure

TIMEBOX_FACTOR = 2.0  # an inject without a timebox ends at twice its recovery budget
SETTLE_S = 60.0  # after recovery, the room's last minute before an inject is restored


def default_budgets(spec: DrillSpec) -> dict[str, float]:
    """Each measure's budget from the drill's own SLA, cumulated from the injection."""
    sla = spec.sla
    detect = sla.budget(Phase.DETECT)
    declare = detect + sla.budget(Phase.CLASSIFY)
    mitigate = declare + sla.budget(Phase.RESPOND) + sla.budget(Phase.MITIGATE)
    return {Measure.DETECTION.value: detect, Measure.DECLARATION.value: declare,
            Measure.MITIGATION.value: mitigate, Measure.RECOVERY.value: sla.resolve}


def load(path: str | Path, *, profile: TimingProfile | None = None) -> GameDayPlan:
    file = Path(path)
    suite = suitefile.load(file, profile=profile)
    index = yamldoc.load(file)
    data = index.root
    if not isinstance(data, dict) or "gameday" not in data:
        raise InvalidInput("no 'gameday:' block: a game day needs a title and, optionally, "
                           "its injects (see drills/gameday.yaml)", file=file, line=1)
    suitefile.validate_schema(data, file, index, against=suitefile.package_schema(
        "pfdrill.gameday", "gameday.schema.json"))
    block: dict[str, Any] = data["gameday"]
    drills = {d.name: d for d in suite.drills}
    raw_injects: list[dict[str, Any]] = block.get("injects") or [
        {"drill": d.name} for d in suite.drills]
    seen: dict[str, int] = {}
    injects = []
    for i, raw in enumerate(raw_injects):
        line = index.line(["gameday", "injects", i, "drill"]) or index.line(["gameday"]) or 0
        name = raw["drill"]
        if name not in drills:
            raise InvalidInput(f"gameday.injects[{i}].drill: no drill {name!r} in this file "
                               f"(has: {', '.join(drills)})", file=file, line=line,
                               text=index.text(line))
        if name in seen:
            raise InvalidInput(f"gameday.injects[{i}].drill: {name!r} is played twice (first "
                               f"on line {seen[name]})", file=file, line=line,
                               text=index.text(line))
        seen[name] = line
        spec = drills[name]
        budgets = {**default_budgets(spec), **{k: float(v) for k, v in (block.get("sla")
                                                                          or {}).items()},
                   **{k: float(v) for k, v in (raw.get("sla") or {}).items()}}
        timebox = raw.get("timebox", block.get("timebox"))
        rollback = raw.get("rollback", block.get("rollback", "after_mitigation"))
        settle = raw.get("settle", block.get("settle", SETTLE_S))
        injects.append(InjectPlan(
            drill=spec, title=raw.get("title") or f"Inject {i + 1}", budgets=budgets,
            timebox_s=float(timebox) if timebox is not None
            else TIMEBOX_FACTOR * budgets[Measure.RECOVERY.value],
            brief=raw.get("brief", ""), hints=tuple(raw.get("hints") or ()),
            rollback_when_mitigated=rollback == "after_mitigation", settle_s=float(settle)))
    titles = [i.title for i in injects]
    dup = next((t for t in titles if titles.count(t) > 1), None)
    if dup is not None:
        line = index.line(["gameday", "injects"]) or 0
        raise InvalidInput(f"gameday.injects: two injects are titled {dup!r} (responders tell "
                           "them apart by title)", file=file, line=line, text=index.text(line))
    return GameDayPlan(name=suite.name, title=block["title"], file=str(file),
                       injects=tuple(injects), facilitator=block.get("facilitator", ""),
                       description=block.get("description", suite.description))
