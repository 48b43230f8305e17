"""A Markdown summary short enough for a CI step summary (``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from pfdrill.model.result import MEASURE_DEFINITIONS, DrillResult, SuiteResult, Verdict

_ICON = {Verdict.PASSED: "✅", Verdict.FAILED: "❌", Verdict.ERROR: "⚠️",
         Verdict.INTERRUPTED: "⏹️"}
_LIMIT = 300  # characters of a reason in the table; the HTML report has the rest


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _cell(text: str) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def _gap(r: DrillResult) -> str:
    pace = r.evidence.pace
    if pace is None:
        return "—"
    return f"{pace.gap_s:+.1f} s" + (" ⚠️" if pace.slow else "")


def render(suite: SuiteResult, report_dir: str = "") -> str:
    c = suite.counts
    passed = c[Verdict.PASSED.value]
    title = f"## pfdrill {suite.suite}: {passed}/{len(suite.results)} drills passed"
    lines = [title, "",
             f"Run `{suite.run_id}` · {suite.header.provider} context `{suite.header.context}`"
             f" · pfdrill {suite.header.pfdrill_version} · {suite.duration_s:.0f} s", "",
             *([f"Detection: {suite.header.detection}", ""] if suite.header.detection else []),
             "| Drill | Verdict | Failing phase | Reason | MTTD | Bound | Gap | Classify | Mitigate "
             "| MTTR |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in suite.results:
        m = r.measures
        lines.append(
            f"| {r.name} | {_ICON[r.verdict]} {r.verdict.value} | "
            f"{r.failing_phase.value if r.failing_phase else ''} | {_cell(r.reason)} | "
            f"{_s(m.mttd)} | {_s(r.evidence.pace.bound_s if r.evidence.pace else None)} | "
            f"{_gap(r)} | {_s(m.time_to_classify)} | {_s(m.time_to_mitigate)} | {_s(m.mttr)} |")
    slow = [r for r in suite.results if r.evidence.pace is not None and r.evidence.pace.slow]
    if slow:
        lines += ["", "### ⚠️ Slow detection pipeline", ""]
        for r in slow:
            assert r.evidence.pace is not None
            lines.append(f"- **{r.name}**: {r.evidence.pace.describe()}; bound: "
                         f"{_cell(r.evidence.pace.note)}")
    failed = [r for r in suite.results if not r.verdict.ok]
    for r in failed:
        lines += ["", f"### {r.name}: {r.verdict.value} in {r.failing_phase.value if r.failing_phase else 'drill'}",
                  "", f"> {_cell(r.reason)}", ""]
        for p in r.phases:
            if p.status.value in ("failed", "error"):
                lines.append(f"- **{p.phase.value}** {p.status.value} after {p.duration_s:.1f} s "
                             f"(budget {p.budget_s:g} s): {_cell(p.reason)}")
        for crit in r.evidence.criteria:
            if not crit.passed:
                lines.append(f"- criterion *{crit.title}*: {_cell(crit.reason)}")
    lines += ["", "<details><summary>What the measures mean</summary>", ""]
    lines += [f"- {text}" for text in MEASURE_DEFINITIONS.values()]
    lines += ["", "</details>"]
    if report_dir:
        lines += ["", f"Full report: `{report_dir}/report.html`"]
    return "\n".join(lines) + "\n"
