"""The post a scheduled run leaves where the team reads it: regressions first, then each suite.

A regression is what ``pfdrill history`` flags (:mod:`pfdrill.history.trend`):
MTTD or MTTR beyond the recent median plus margin, or a drill that passed
last time failing now. Only drills that ran in this run are judged: a
regression of a drill that did not run is last week's news.
"""

from __future__ import annotations

from collections.abc import Sequence

from pfdrill.history import trend
from pfdrill.history.store import HistoryStore
from pfdrill.model.result import SuiteResult
from pfdrill.report import markdown


def regressions(store: HistoryStore, drills: Sequence[str],
                policy: trend.Policy = trend.Policy()) -> list[trend.Regression]:
    """What the history flags for ``drills`` now that this run is in it."""
    wanted = set(drills)
    rows = [r for r in store.rows(last=policy.window + 1) if r.drill in wanted]
    found = [reg for t in trend.trends(rows, policy) for reg in t.regressions]
    # verdicts first (a drill that broke), then slower detection, then slower recovery
    order = {"verdict": 0, "mttd": 1, "mttr": 2}
    return sorted(found, key=lambda r: (order.get(r.what, 3), r.drill))


def _label(reg: trend.Regression) -> str:
    return {"verdict": "now failing", "mttd": "slower detection",
            "mttr": "slower recovery"}.get(reg.what, reg.what)


def render(schedule: str, suites: Sequence[tuple[SuiteResult, str]],
           found: Sequence[trend.Regression]) -> str:
    """Markdown: a headline, every regression by drill name, then each suite's summary."""
    drills = sum(len(s.results) for s, _ in suites)
    passed = sum(1 for s, _ in suites for r in s.results if r.verdict.ok)
    if found:
        names = ", ".join(dict.fromkeys(r.drill for r in found))
        head = [f"# ⚠️ pfdrill {schedule}: {len(found)} regression"
                f"{'s' if len(found) > 1 else ''} — {names}", ""]
        head += [f"- **{r.drill}** ({_label(r)}): {r.message}" for r in found]
    else:
        head = [f"# pfdrill {schedule}: no regressions", ""]
    head += ["", f"{passed}/{drills} drills passed.", ""]
    body = [markdown.render(result, report_dir) for result, report_dir in suites]
    return "\n".join(head) + "\n" + "\n".join(body)
