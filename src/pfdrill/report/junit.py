"""JUnit XML for CI: one testcase per drill; a failure names the failing phase and reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pfdrill.model.result import MEASURE_DEFINITIONS, DrillResult, SuiteResult, Verdict


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _details(r: DrillResult) -> str:
    lines = [f"verdict: {r.verdict.value}"]
    if r.failing_phase is not None:
        lines.append(f"failing phase: {r.failing_phase.value}")
        lines.append(f"reason: {r.reason}")
    lines.append("phases:")
    for p in r.phases:
        measured = f"{p.measured_s:.1f}" if p.measured_s is not None else "-"
        lines.append(f"  {p.phase.value:<10} {p.status.value:<8} {measured:>7} s"
                     f" / {p.budget_s:g} s  {p.reason}")
    lines.append("measures (seconds from injection):")
    for key, value in r.measures.items():
        lines.append(f"  {key}: {_fmt(value) or 'not reached'}")
    unmet = [c for c in r.evidence.criteria if not c.passed]
    for c in unmet:
        lines.append(f"criterion not met: {c.title}: {c.reason}")
    return "\n".join(lines)


def render(suite: SuiteResult) -> str:
    counts = suite.counts
    failures = counts[Verdict.FAILED.value]
    errors = counts[Verdict.ERROR.value] + counts[Verdict.INTERRUPTED.value]
    root = ET.Element("testsuites", name="pfdrill", tests=str(len(suite.results)),
                      failures=str(failures), errors=str(errors), time=_fmt(suite.duration_s))
    ts = ET.SubElement(root, "testsuite", name=suite.suite, tests=str(len(suite.results)),
                       failures=str(failures), errors=str(errors), skipped="0",
                       time=_fmt(suite.duration_s), timestamp=suite.header.started_at,
                       hostname=suite.header.cluster or "pfdrill")
    props = ET.SubElement(ts, "properties")
    for key, value in (("run_id", suite.run_id), ("file", suite.file),
                       ("pfdrill_version", suite.header.pfdrill_version),
                       ("context", suite.header.context), ("provider", suite.header.provider)):
        ET.SubElement(props, "property", name=key, value=value)
    for r in suite.results:
        tc = ET.SubElement(ts, "testcase", classname=f"pfdrill.{suite.suite}", name=r.name,
                           time=_fmt(r.duration_s))
        if r.spec.source is not None:
            tc.set("file", r.spec.source.file)
            if r.spec.source.line is not None:
                tc.set("line", str(r.spec.source.line))
        tprops = ET.SubElement(tc, "properties")
        for name, measure in r.measures.items():
            ET.SubElement(tprops, "property", name=name, value=_fmt(measure) or "not reached")
        if r.evidence.pace is not None:
            ET.SubElement(tprops, "property", name="mttd_bound", value=_fmt(r.evidence.pace.bound_s))
            ET.SubElement(tprops, "property", name="mttd_gap", value=_fmt(r.evidence.pace.gap_s))
            if r.evidence.pace.slow:
                ET.SubElement(tprops, "property", name="warning",
                              value=f"slow detection pipeline: {r.evidence.pace.describe()}")
        if r.verdict is Verdict.FAILED:
            phase = r.failing_phase.value if r.failing_phase else "drill"
            el = ET.SubElement(tc, "failure", message=f"{phase}: {r.reason}", type=phase)
            el.text = _details(r)
        elif r.verdict in (Verdict.ERROR, Verdict.INTERRUPTED):
            phase = r.failing_phase.value if r.failing_phase else "drill"
            el = ET.SubElement(tc, "error", message=f"{phase}: {r.reason}",
                               type=r.verdict.value)
            el.text = _details(r)
        out = ET.SubElement(tc, "system-out")
        out.text = "\n".join(f"{e.at:9.2f}s {e.kind.value:<16} {e.message}" for e in r.timeline)
        out.text += "\n\n" + "\n".join(f"{k}: {v}" for k, v in MEASURE_DEFINITIONS.items())
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"
