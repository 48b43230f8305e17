"""``pfctl chaos update``: a runbook asks for a chaos scenario to run at a frequency.

The request edits the schedule file (``drills/schedule.yaml``, see
:mod:`pfdrill.schedule.edit`): comments kept, the scenario recorded, its drills
scheduled at least that often. Which file: the environment's
``schedule_file`` in the pfctl config (a runbook sandbox points it at its own
copy), else ``$PFDRILL_SCHEDULE``, else ``drills/schedule.yaml`` up from the
working directory. Scenario names are the runbook's (``policy_adapter_failure``),
the fault catalog's, the scenario files' or drill names
(:mod:`pfdrill.schedule.scenario`). The request is also kept in the incident
store, so the incident's timeline shows it.
"""

from __future__ import annotations

from typing import Any

from pfdrill.pfctl.context import Context
from pfdrill.schedule import edit, spec

FREQUENCIES = tuple(f.value for f in spec.Frequency)


def update(ctx: Context, scenario: str, frequency: str) -> dict[str, Any]:
    wanted = spec.Frequency.parse(frequency)
    file = spec.locate(ctx.env.schedule_file or None, cwd=ctx.cwd)
    change = edit.request(file, scenario, wanted)
    ctx.store.set_chaos(scenario, wanted.value)
    return {"scenario": scenario, "frequency": wanted.value, "file": str(file),
            "drills": list(change.drills), "added": list(change.added),
            "changed": change.changed, "summary": change.describe()}
