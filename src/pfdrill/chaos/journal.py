"""A chaostoolkit journal as drill evidence: :class:`~pfdrill.model.evidence.ChaosJournal`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pfdrill.model.evidence import ChaosJournal, JournalActivity

OUTPUT_CHARS = 500


def _seconds(run: Mapping[str, Any]) -> float:
    if isinstance(run.get("duration"), (int, float)):
        return round(float(run["duration"]), 3)
    try:
        start = dt.datetime.fromisoformat(str(run["start"]))
        end = dt.datetime.fromisoformat(str(run["end"]))
    except (KeyError, ValueError):
        return 0.0
    return round((end - start).total_seconds(), 3)


def activity(run: Mapping[str, Any]) -> JournalActivity:
    act = run.get("activity") or {}
    output = run.get("output")
    if run.get("status") == "failed" and run.get("exception"):
        output = str(run["exception"][-1]).strip()
    text = "" if output is None else str(output)
    return JournalActivity(name=str(act.get("name", "?")), kind=str(act.get("type", "?")),
                           status=str(run.get("status", "?")), duration_s=_seconds(run),
                           output=text[:OUTPUT_CHARS])


def _hypothesis(state: Any) -> Sequence[JournalActivity]:
    if not isinstance(state, Mapping):
        return ()
    out = []
    for probe in state.get("probes") or []:
        a = activity(probe)
        ok = probe.get("tolerance_met")
        out.append(JournalActivity(f"steady state: {a.name}", "probe",
                                   a.status if ok is not False else "not met", a.duration_s, a.output))
    return out


def summarize(journals: Sequence[Mapping[str, Any]]) -> ChaosJournal:
    """One record for one or more journals of the same fault (inject run, rollback run)."""
    activities: list[JournalActivity] = []
    rollbacks: list[JournalActivity] = []
    met: bool | None = None
    statuses = []
    for j in journals:
        states = j.get("steady_states") or {}
        activities.extend(_hypothesis(states.get("before")))
        runs = [activity(r) for r in j.get("run") or []]
        is_rollback_run = bool(runs) and all(r.name.startswith("roll back") or r.kind == "probe"
                                              for r in runs) and not any(r.name.startswith("inject")
                                                                         for r in runs)
        (rollbacks if is_rollback_run else activities).extend(runs)
        rollbacks.extend(activity(r) for r in j.get("rollbacks") or [])
        rollbacks.extend(_hypothesis(states.get("after")))
        for state in (states.get("before"), states.get("after")):
            if isinstance(state, Mapping) and "steady_state_met" in state:
                met = bool(state["steady_state_met"]) if met in (None, True) else met
        statuses.append("deviated" if j.get("deviated") else str(j.get("status")))
    bad = [s for s in statuses if s != "completed"]
    title = str((journals[0].get("experiment") or {}).get("title", "")) if journals else ""
    return ChaosJournal(experiment=title, status=bad[0] if bad else "completed",
                        steady_state_met=met, activities=tuple(activities), rollbacks=tuple(rollbacks))
