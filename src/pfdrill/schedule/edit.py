"""Edit ``drills/schedule.yaml`` the way a person would: comments, order and quoting kept.

``pfctl chaos update --scenario NAME --frequency F`` lands here. The request
is recorded under ``scenarios:`` (a promise the file's validation keeps), and
every drill the scenario means that does not yet run that often is added to
an entry of its suite that does — or to a new entry on the frequency's
canonical cron. Nothing is ever removed: running a drill more often than
asked is fine. The edited file is validated before it replaces the old one.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc
from pfdrill.schedule import scenario, spec


@dataclasses.dataclass(frozen=True)
class Change:
    file: Path
    scenario: str
    frequency: spec.Frequency
    drills: tuple[str, ...]  # every drill the scenario means
    added: tuple[str, ...]  # "drill → schedule" for each drill newly scheduled
    recorded: bool  # the scenarios: entry was new or changed

    @property
    def changed(self) -> bool:
        return self.recorded or bool(self.added)

    def describe(self) -> str:
        what = ", ".join(self.drills)
        if not self.changed:
            return (f"{self.scenario}: already {self.frequency.value} ({what}) in {self.file}; "
                    f"nothing changed")
        parts = [f"{self.scenario}: {self.frequency.value} ({what})"]
        parts += [f"added {a}" for a in self.added]
        return "; ".join(parts) + f" — {self.file} updated"


def _entry_name(doc: Any, base: str) -> str:
    taken = {str(e.get("name")) for e in doc["schedules"]}
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def _schedule_drill(doc: Any, current: spec.ScheduleSpec, suite_file: Path, drill: str,
                    wanted: spec.Frequency) -> str | None:
    """Make ``drill`` run at least ``wanted`` often; the schedule it joined, or None if it did."""
    mine = [(i, e) for i, e in enumerate(current.entries) if e.suite_file == suite_file]
    if any(e.runs(drill) and e.frequency.covers(wanted) for _, e in mine):
        return None
    # An entry of this suite already on this frequency with a list of drills: join it.
    for i, e in mine:
        if e.frequency is wanted and e.drills:
            doc["schedules"][i]["drills"].append(drill)
            return e.name
    ref = mine[0][1].suite_ref if mine else os.path.relpath(suite_file, current.file.parent)
    suite_name = Path(ref).stem
    entry = yamldoc.new_mapping([("name", _entry_name(doc, f"{suite_name}-{wanted.value}")),
                                 ("suite", ref), ("cron", wanted.cron),
                                 ("drills", yamldoc.new_sequence([drill], flow=True))])
    doc["schedules"].append(entry)
    return str(entry["name"])


def request(path: Path, name: str, frequency: spec.Frequency) -> Change:
    """Record that scenario ``name`` runs at least ``frequency`` often; schedule its drills."""
    current = spec.load(path)
    targets = scenario.resolve(name, current)
    edited = yamldoc.load(path, edit=True)
    doc: Any = edited.root
    recorded = False
    scenarios = doc.get("scenarios")
    if scenarios is None:
        scenarios = yamldoc.new_mapping()
        doc["scenarios"] = scenarios
        doc.yaml_set_comment_before_after_key(
            "scenarios", before="Chaos scenarios runbooks asked for (pfctl chaos update): each "
            "one's drills run at least this often.")
    if scenarios.get(name) != frequency.value:
        scenarios[name] = frequency.value
        recorded = True
    added = []
    for suite_file, drill in targets:
        joined = _schedule_drill(doc, current, suite_file, drill, frequency)
        if joined is not None:
            added.append(f"{drill} → schedule {joined!r}")
            current = _reparse(edited, path)  # the next drill sees this one's entry
    change = Change(file=path, scenario=name, frequency=frequency,
                    drills=tuple(d for _, d in targets), added=tuple(added), recorded=recorded)
    if change.changed:
        _write_validated(edited, path)
    return change


def _reparse(edited: yamldoc.Document, path: Path) -> spec.ScheduleSpec:
    """The schedule as edited so far (validated from a scratch file beside the real one)."""
    scratch = path.with_name(f".{path.name}.edit")
    try:
        scratch.write_text(yamldoc.dumps(edited), encoding="utf-8")
        return dataclasses.replace(spec.load(scratch), file=path)
    finally:
        scratch.unlink(missing_ok=True)


def _write_validated(edited: yamldoc.Document, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(yamldoc.dumps(edited), encoding="utf-8")
    try:
        spec.load(tmp)
    except InvalidInput as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"the edit would make the schedule invalid ({exc.message}); "
                           f"left unchanged", file=path) from None
    os.replace(tmp, path)
