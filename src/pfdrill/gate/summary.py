"""The gate's reports: a Markdown summary for the CI step summary, JUnit XML, the result as JSON.

The Markdown says what changed, which drills were selected and why,
regressions with file:line, and the known (standing) failures; it is short
enough for ``$GITHUB_STEP_SUMMARY``. The drills' own reports (HTML, JUnit,
evidence) are next to it under ``drills/``.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from pfdrill.model.gate import Finding, FindingKind, GateResult, Side

MARKDOWN = "summary.md"
JUNIT = "junit.xml"
JSON = "gate.json"
_LIMIT = 300
_LIST = 40  # findings listed in full; the JSON has them all


def _cell(text: str) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def _finding(f: Finding) -> str:
    under = f" `SEVERITY={f.severity}`" if f.severity else ""
    where = f" — *{f.section}*" if f.section else ""
    base = f"; at the base: {_cell(f.base_detail)}" if f.base_detail else ""
    return (f"- `{f.location}` **{f.kind.value}**{under}{where}: {_cell(f.subject)}: "
            f"{_cell(f.detail)}{base}")


def _findings(title: str, found: Iterable[Finding]) -> list[str]:
    items = list(found)
    if not items:
        return []
    out = ["", f"### {title} ({len(items)})", ""]
    out += [_finding(f) for f in items[:_LIST]]
    if len(items) > _LIST:
        out.append(f"- … and {len(items) - _LIST} more (see `{JSON}`)")
    return out


def headline(result: GateResult) -> str:
    n, k, u = len(result.regressions), len(result.known), len(result.unjudged)
    if u and not n:
        return (f"{u} drill(s) could not be judged: the environment was not in steady state"
                + (f"; {k} known failure(s)" if k else ""))
    if result.passed:
        tail = f"; {k} known failure(s), not introduced by this change" if k else ""
        return f"no regression{tail}"
    if not n:
        return f"{k} known failure(s) (--strict)"
    return f"{n} regression(s)" + (f"; {k} known failure(s)" if k else "")


def markdown(result: GateResult, report_dir: str = "") -> str:
    icon = "✅" if result.passed else "❌"
    t = result.timing
    lines = [f"## {icon} pfdrill gate: {headline(result)}", "",
             f"Base {result.base_name} (`{result.base_commit[:12]}`) → head "
             f"(`{result.head_commit[:12] or 'working tree'}`) · "
             f"{len(result.changed_files)} changed file(s) · pfdrill "
             f"{result.header.pfdrill_version} · {t.total_s:.0f} s (set-up {t.setup_s:.0f} s, "
             f"base check {t.base_check_s:.0f} s, head check {t.head_check_s:.0f} s, drills "
             f"{t.drills_s + t.base_drills_s:.0f} s)"]
    lines += ["", "### What changed", ""]
    any_change = False
    for v in result.runbooks:
        head = v.diff.head
        changed = v.diff.changed
        any_change = any_change or bool(changed)
        if not changed:
            lines.append(f"- `{_short(head, result.repo)}`: nothing that runs changed")
        for s in changed:
            line = s.head_line if s.head_line is not None else s.base_line
            lines.append(f"- `{_short(head, result.repo)}:{line}` {_cell(s.describe())}")
        for b in v.diff.not_run_added:
            lines.append(f"- `{_short(head, result.repo)}:{b.line}` {b.section}: shell code "
                         f"that will not run — {b.summary()}: `{_cell(b.first_line)}`")
    others = [f for f in result.changed_files
              if f not in {_short(v.diff.head, result.repo) for v in result.runbooks}]
    if others:
        shown = ", ".join(f"`{f}`" for f in others[:15])
        more = f" and {len(others) - 15} more" if len(others) > 15 else ""
        lines.append(f"- other files: {shown}{more}")
    if not result.runbooks and not others:
        lines.append("- nothing")
    if result.runbooks:
        lines += ["", "### Runbook checks (whole runbook, fresh sandbox, per severity)", "",
                  "| Runbook | Severity | Base | Head |", "|---|---|---|---|"]
        for v in result.runbooks:
            for sev in v.severities:
                cells = {}
                for side in Side:
                    c = next((c for c in v.checks if c.side is side and c.severity == sev), None)
                    cells[side] = "—" if c is None else (
                        f"{c.ok}/{c.commands} ok, {c.failed} failed"
                        + (f", {c.expectations_unmet} expectation(s) unmet"
                           if c.expectations_unmet else "")
                        + (" (cached)" if c.cached else f" ({c.duration_s:.0f} s)"))
                if cells[Side.HEAD] == "—":
                    cells[Side.HEAD] = "same as base (unchanged)"
                elif cells[Side.BASE] == "—" and v.diff.base:
                    cells[Side.BASE] = "not needed: nothing at the head to explain"
                lines.append(f"| `{_short(v.diff.head, result.repo)}` | {sev} | "
                             f"{cells[Side.BASE]} | {cells[Side.HEAD]} |")
    lines += ["", "### Drills", ""]
    if not result.selected:
        lines.append("No drill selected: the change touches no section a drill runs, no drill "
                     "entry, feature, fault or check code.")
    else:
        lines += ["| Drill | Why selected | Head | Base |", "|---|---|---|---|"]
        ran = {o.drill.drill: o for o in result.drills}
        for chosen in result.selected:
            o = ran.get(chosen.drill)
            head = "not run" if o is None else (o.head_verdict + (
                f" in {o.head_phase}: {_cell(o.head_reason)}" if o.head_phase else ""))
            base = "" if o is None or not o.base_verdict else (o.base_verdict + (
                f" in {o.base_phase}" if o.base_phase else "") + (
                " (cached)" if o.base_cached else ""))
            lines.append(f"| {chosen.drill} (`{chosen.file}:{chosen.line or ''}`) | "
                         f"{_cell('; '.join(chosen.reasons))} | {head} | {base or '—'} |")
        if result.skipped:
            lines += ["", f"Drills not run: {result.skipped}."]
    lines += _findings("Regressions", result.regressions)
    lines += _findings("Not judged — the environment kept these drills from starting",
                       result.unjudged)
    lines += _findings("Known failures — not introduced by this change", result.known)
    for note in result.notes:
        lines += ["", f"> note: {_cell(note)}"]
    if report_dir:
        lines += ["", f"Reports: `{report_dir}` (`{JUNIT}`, `{JSON}`, drill reports under "
                      "`drills/`)"]
    return "\n".join(lines) + "\n"


def _short(path: str, repo: str) -> str:
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path(repo).resolve()))
    except ValueError:
        return path


def junit(result: GateResult) -> str:
    root = ET.Element("testsuites", name="pfdrill-gate")
    total = failures = 0

    def case(suite: ET.Element, name: str, file: str, line: int | None,
             fails: list[Finding], known: list[Finding]) -> None:
        nonlocal total, failures
        tc = ET.SubElement(suite, "testcase", classname=f"pfdrill.gate.{suite.get('name')}",
                           name=name, file=file)
        if line is not None:
            tc.set("line", str(line))
        total += 1
        counted = fails + (known if result.strict else [])
        if counted:
            failures += 1
            el = ET.SubElement(tc, "failure", message=counted[0].describe()[:500],
                               type=counted[0].kind.value)
            el.text = "\n".join(f.describe() for f in counted)
        if known:
            out = ET.SubElement(tc, "system-out")
            out.text = "known, not introduced by this change:\n" + "\n".join(
                f.describe() for f in known)

    rb = ET.SubElement(root, "testsuite", name="runbook")
    for v in result.runbooks:
        file = _short(v.diff.head, result.repo)
        for sev in v.severities:
            mine = [f for f in result.findings if f.file == file and f.severity == sev]
            case(rb, f"{file} SEVERITY={sev}", file, None,
                 [f for f in mine if not f.standing], [f for f in mine if f.standing])
        static = [f for f in result.findings if f.file == file and not f.severity
                  and f.kind is FindingKind.CHANGE_REMOVED]
        case(rb, f"{file} changes and notifications kept", file, None,
             [f for f in static if not f.standing], [f for f in static if f.standing])
    dr = ET.SubElement(root, "testsuite", name="drills")
    for s in result.selected:
        mine = [f for f in result.findings
                if f.kind in (FindingKind.DRILL_FAILS, FindingKind.DRILL_NOT_JUDGED)
                and f.subject == f"drill {s.drill}"]
        case(dr, s.drill, s.file, s.line, [f for f in mine if not f.standing],
             [f for f in mine if f.standing])
    for f in result.findings:
        if f.kind is FindingKind.SECTION_MISSING:
            case(dr, f.subject, f.file, f.line, [] if f.standing else [f], [f] if f.standing else [])
    for suite in (rb, dr):
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", "0")
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("time", f"{result.timing.total_s:.1f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write(directory: Path, result: GateResult) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    _write(directory / MARKDOWN, markdown(result, str(directory)))
    _write(directory / JUNIT, junit(result))
    _write(directory / JSON, json.dumps(result.to_dict(), indent=1, sort_keys=True) + "\n")
