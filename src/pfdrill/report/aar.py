"""The after-action report of a game day, in HTML, Markdown and JSON.

All three render from one redacted copy (:class:`~pfdrill.report.redact.Redactor`),
as the drill reports do: webhook URLs and tokens a responder typed never reach
a report. The HTML is self-contained (inline CSS, no script, nothing fetched).
Over-budget measures are *marked*, never failed: a game day measures people,
it does not judge them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

from pfdrill.model.gameday import AfterActionReport, InjectReport, MeasureResult
from pfdrill.report import html as report_html
from pfdrill.report.redact import Redactor
from pfdrill.report.writer import write_file

HTML = "aar.html"
MARKDOWN = "aar.md"
JSON = "aar.json"


def clock(wall: float | None) -> str:
    if wall is None:
        return "—"
    return dt.datetime.fromtimestamp(wall, dt.UTC).strftime("%H:%M:%S")


def day(wall: float | None) -> str:
    if wall is None:
        return "—"
    return dt.datetime.fromtimestamp(wall, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def since(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f} s"


def measured(m: MeasureResult) -> str:
    budget = f"{m.budget_s:g} s" + (f" (+{m.extended_s:g} s extended)" if m.extended_s else "")
    got = "not reached" if m.elapsed_s is None else f"{m.elapsed_s:.1f} s"
    return f"{got} / {budget}"


def severity(i: InjectReport) -> str:
    if i.declared_severity is None:
        return f"none declared (expected {i.expected_severity})"
    same = "matches" if i.severity_matches else "differs from"
    later = (f", later {i.severity_now}" if i.severity_now and i.severity_now !=
             i.declared_severity else "")
    return f"{i.declared_severity} declared{later}: {same} the expected {i.expected_severity}"


def html(report: AfterActionReport) -> str:
    return report_html.template("aar.html.j2").render(
        r=report, clock=clock, day=day, since=since, measured=measured, severity=severity)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown(report: AfterActionReport) -> str:
    r = report
    lines = [f"# After-action report: {r.title}", "",
             f"Game day `{r.id}` · {day(r.started_wall)} → {day(r.ended_wall)}"
             + (f" · facilitated by {r.facilitator}" if r.facilitator else "")
             + f" · drill file `{r.file}`", ""]
    if r.description:
        lines += [r.description, ""]
    lines += ["| Inject | Drill | Outcome | " + " | ".join(m.measure.title for m in _measures(r))
              + " | Severity |", "|---|---|---|" + "---|" * len(_measures(r)) + "---|"]
    for i in r.injects:
        cells = [("⚠️ " if m.over_budget else "") + measured(m) for m in i.measures]
        lines.append(f"| {i.title} | {i.drill} | {i.status.value} | " + " | ".join(cells)
                     + f" | {_cell(severity(i))} |")
    lines += ["", "⚠️ marks a measure over its budget (marked, not failed). Times are game time:"
              " from the injection, pauses excluded.", ""]
    for i in r.injects:
        lines += [f"## {i.title}: {i.drill}", "",
                  f"Fault `{i.fault}` · {i.status.value}" + (f" ({i.ended})" if i.ended else "")
                  + f" · restore: {'ok' if i.restored else 'incomplete' if i.restored is False else '—'}",
                  "", f"- Severity: {severity(i)}" + (f" (incident {i.incident_id})"
                                                      if i.incident_id else "")]
        for m in i.measures:
            mark = " **over budget**" if m.over_budget else ""
            lines.append(f"- {m.measure.title}: {measured(m)}{mark}"
                         + (f" — {_cell(m.detail)}" if m.detail else ""))
        if i.paused_s:
            lines.append(f"- Paused {i.paused_s:.0f} s")
        lines += ["", "| Time | Since injection | Source | What |", "|---|---|---|---|"]
        lines += [f"| {clock(e.wall)} | {since(e.since_injection)} | {e.source} | "
                  f"{_cell(e.message)} |" for e in i.timeline]
        lines.append("")
    if r.notes:
        lines += ["## Observer notes", ""]
        lines += [f"- {clock(n.wall)} {n.author}" + (f" ({n.inject})" if n.inject else "")
                  + f": {_cell(n.text)}" for n in r.notes]
        lines.append("")
    lines += ["## Action items", ""]
    if r.actions:
        lines += ["| Id | Action | Owner | Due | State |", "|---|---|---|---|---|"]
        lines += [f"| {a.id} | {_cell(a.title)} | {a.owner} | {a.due} | {a.status}"
                  + (f" ({a.closed_wall} by {a.closed_by}: {_cell(a.resolution)})"
                     if a.status == "closed" else "") + " |" for a in r.actions]
    else:
        lines.append("None recorded (`pfdrill gameday action add`).")
    lines += ["", "<details><summary>What the measures mean</summary>", ""]
    lines += [f"- **{k}**: {v}" for k, v in r.definitions.items()]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def _measures(r: AfterActionReport) -> tuple[MeasureResult, ...]:
    return r.injects[0].measures if r.injects else ()


def write(directory: Path, report: AfterActionReport,
          secrets: Iterable[str] = ()) -> AfterActionReport:
    """Write the three formats into ``directory``; the redacted report that was written."""
    directory.mkdir(parents=True, exist_ok=True)
    clean = Redactor(secrets).record(report)
    write_file(directory / HTML, html(clean))
    write_file(directory / MARKDOWN, markdown(clean))
    write_file(directory / JSON, json.dumps(clean.to_dict(), indent=1, sort_keys=True) + "\n")
    return clean
