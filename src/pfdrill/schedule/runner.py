"""``pfdrill schedule run``: run the due (or named) entries, keep the history, post the summary.

Each entry is one call of the suite runner (:func:`pfdrill.drill.suite.run_file`),
exactly what ``pfdrill drill run`` does: the schedule decides which suites run
when, never how a drill runs. Afterwards the history is pruned to the
configured size, the regressions the history flags for the drills that ran are
put first in the summary, and the summary is POSTed to the webhook.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from pfdrill.drill import suite
from pfdrill.drill.environment import EnvironmentFactory
from pfdrill.drill.observer import DrillObserver
from pfdrill.errors import InvalidInput, PfdrillError
from pfdrill.history import store as history_store
from pfdrill.history import trend
from pfdrill.report.redact import Redactor
from pfdrill.schedule import due as due_mod
from pfdrill.schedule import notify, summary
from pfdrill.schedule.spec import Entry, NotifyOn, ScheduleSpec


@dataclasses.dataclass(frozen=True)
class EntryRun:
    entry: str
    outcome: suite.SuiteRun | None
    error: PfdrillError | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.outcome is not None and self.outcome.result.passed


@dataclasses.dataclass(frozen=True)
class RunReport:
    runs: tuple[EntryRun, ...]
    regressions: tuple[trend.Regression, ...]
    summary: str
    pruned: int
    posted: int | None  # the webhook's HTTP status, None when nothing was posted

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.runs)

    @property
    def error(self) -> PfdrillError | None:
        """The first error that stopped an entry (the CLI exits with its code)."""
        return next((r.error for r in self.runs if r.error is not None), None)


def select(spec: ScheduleSpec, names: Sequence[str], now: dt.datetime,
           window: dt.timedelta) -> list[Entry]:
    """The named entries, or every entry due at ``now``."""
    if names:
        return [spec.entry(n) for n in names]
    return due_mod.due(spec.entries, now, window)


def _drills(spec: ScheduleSpec, entry: Entry, only: Sequence[str]) -> tuple[str, ...]:
    if not only:
        return entry.drills
    runs = entry.drills or tuple(d.name for d in spec.suites()[entry.suite_file].drills)
    outside = [n for n in only if n not in runs]
    if outside:
        raise InvalidInput(f"schedule {entry.name!r} does not run {', '.join(outside)} "
                           f"(it runs: {', '.join(runs)})", file=spec.file, line=entry.line)
    return tuple(only)


def run(spec: ScheduleSpec, entries: Sequence[Entry], factory: EnvironmentFactory, *,
        reports: Path, history: Path, only: Sequence[str] = (), post: bool = True,
        environ: Mapping[str, str] = os.environ,
        observers: Sequence[DrillObserver] = ()) -> RunReport:
    """Run ``entries`` one after the other; always prune, summarise and (when asked) post."""
    url = spec.webhook.resolve(environ) if post else None
    if post and url is None:
        raise InvalidInput(f"the summary webhook is not set: {spec.webhook.describe()} is empty "
                           f"(or run with --no-post)", file=spec.file)
    plans = [(e, _drills(spec, e, only)) for e in entries]  # bad --only before anything runs
    runs: list[EntryRun] = []
    for entry, drills in plans:
        try:
            outcome = suite.run_file(entry.suite_file, factory, reports=reports, history=history,
                                     only=drills, profile=entry.profile,
                                     extra_observers=observers)
            runs.append(EntryRun(entry.name, outcome))
        except PfdrillError as exc:  # reported in the summary; the CLI exits with its code
            runs.append(EntryRun(entry.name, None, exc))
    db = history_store.HistoryStore(history)
    pruned = db.prune(spec.keep)
    ran = [r.name for run_ in runs if run_.outcome for r in run_.outcome.result.results]
    found = summary.regressions(db, ran)
    text = summary.render(", ".join(e.name for e in entries) or "schedule",
                          [(r.outcome.result, str(r.outcome.report_dir)) for r in runs
                           if r.outcome is not None], found)
    errors = [f"- schedule **{r.entry}** stopped: {r.error}" for r in runs if r.error]
    if errors:
        text += "\n" + "\n".join(["### Did not finish", "", *errors]) + "\n"
    # The webhook URLs (the summary's own and the runbook's) must not be posted anywhere.
    secrets = [v for k, v in environ.items() if "WEBHOOK" in k or "TOKEN" in k]
    text = Redactor([u for u in (url, *secrets) if u]).text(text)
    status = None
    quiet = spec.notify_on is NotifyOn.FAILURE and not found and all(r.passed for r in runs)
    if url is not None and runs and not quiet:
        status = notify.post(url, spec.webhook, text)
    return RunReport(runs=tuple(runs), regressions=tuple(found), summary=text, pruned=pruned,
                     posted=status)
