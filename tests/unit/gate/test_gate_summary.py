"""The gate's reports: headline, Markdown for the step summary, JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pfdrill.gate import summary
from pfdrill.model.gate import (
    Change,
    CheckSummary,
    DrillOutcome,
    Finding,
    FindingKind,
    GateResult,
    RunbookDiff,
    RunbookVerdict,
    SectionChange,
    Selected,
    Side,
    Timing,
)
from pfdrill.model.header import RecordHeader

HEADER = RecordHeader.create(cluster="c", context="kwok-pfdrill", provider="kwok")
RB = "/repo/runbooks/rb.md"
DIFF = RunbookDiff(base=RB, head=RB, base_sha256="a", head_sha256="b", sections=(
    SectionChange(name="Recovery Procedures / Performance Recovery", change=Change.EDITED,
                  base_line=236, head_line=239),))
CHOSEN = Selected(suite="weekly", file="drills/weekly.yaml", drill="high-reject-rate",
                  reasons=("runs a changed section: Recovery Procedures / Performance Recovery: "
                           "1 command edited",), line=86)


def check(side: Side, sev: str, failed: int = 0, cached: bool = False) -> CheckSummary:
    return CheckSummary(side=side, severity=sev, runbook=RB, sha256="x", commands=75,
                        ok=75 - failed, failed=failed, not_executable=0, expectations_unmet=0,
                        duration_s=61.0, cached=cached)


def finding(kind: FindingKind, standing: bool, line: int, sev: str = "SEV-1",
            file: str = "runbooks/rb.md", subject: str = "`kubectl x`") -> Finding:
    return Finding(kind=kind, standing=standing, file=file, line=line,
                   section="Recovery Procedures / Policy Enforcement Recovery",
                   subject=subject, detail="failed: exit 1", severity=sev,
                   base_detail="ok")


def result(*findings: Finding, drills: tuple[DrillOutcome, ...] = (),
           selected: tuple[Selected, ...] = (), strict: bool = False) -> GateResult:
    return GateResult(
        header=HEADER, repo="/repo", base_name="merge-base with main", base_commit="a" * 40,
        head_commit="b" * 40, changed_files=("runbooks/rb.md",),
        runbooks=(RunbookVerdict(diff=DIFF, severities=("SEV-1", "SEV-2"), checks=(
            check(Side.HEAD, "SEV-1", failed=1), check(Side.HEAD, "SEV-2"),
            check(Side.BASE, "SEV-1", failed=1, cached=True))),),
        selected=selected, drills=drills, findings=findings, strict=strict,
        timing=Timing(setup_s=20, base_check_s=0, head_check_s=120, drills_s=60, total_s=205))


def test_a_clean_result_says_so_and_that_no_drill_was_selected() -> None:
    text = summary.markdown(result())
    assert text.startswith("## ✅ pfdrill gate: no regression\n")
    assert "`runbooks/rb.md:239` Recovery Procedures / Performance Recovery" in text
    assert "No drill selected" in text
    assert "| `runbooks/rb.md` | SEV-2 | not needed: nothing at the head to explain |" in text
    assert "(cached)" in text


def test_regressions_and_known_failures_are_listed_apart_with_file_and_line() -> None:
    r = result(finding(FindingKind.COMMAND_FAILS, False, 224),
               finding(FindingKind.COMMAND_FAILS, True, 113))
    text = summary.markdown(r)
    assert text.startswith("## ❌ pfdrill gate: 1 regression(s); 1 known failure(s)")
    reg, known = text.split("### Known failures — not introduced by this change (1)")
    assert "`runbooks/rb.md:224` **command fails** `SEVERITY=SEV-1`" in reg
    assert "`runbooks/rb.md:113`" in known and "`runbooks/rb.md:113`" not in reg


def test_selected_drills_show_why_and_their_verdicts() -> None:
    outcome = DrillOutcome(drill=CHOSEN, head_verdict="failed", head_phase="recover",
                           head_reason="enforcement_mode 'monitor'", base_verdict="passed")
    r = result(finding(FindingKind.DRILL_FAILS, False, 86, sev="", file="drills/weekly.yaml",
                       subject="drill high-reject-rate"),
               drills=(outcome,), selected=(CHOSEN,))
    text = summary.markdown(r)
    assert ("| high-reject-rate (`drills/weekly.yaml:86`) | runs a changed section: Recovery "
            "Procedures / Performance Recovery: 1 command edited | failed in recover: "
            "enforcement_mode 'monitor' | passed |") in text
    xml = ET.fromstring(summary.junit(r))
    drills = xml.find("testsuite[@name='drills']")
    assert drills is not None and drills.get("failures") == "1"


def test_junit_fails_the_severity_with_a_regression_and_strict_fails_known_ones() -> None:
    r = result(finding(FindingKind.COMMAND_FAILS, True, 113, sev="SEV-2"))
    xml = ET.fromstring(summary.junit(r))
    assert xml.get("failures") == "0"
    case = xml.find(".//testcase[@name='runbooks/rb.md SEVERITY=SEV-2']")
    assert case is not None and "known, not introduced" in (case.findtext("system-out") or "")
    strict = ET.fromstring(summary.junit(result(*r.findings, strict=True)))
    assert strict.get("failures") == "1"
    assert not result(*r.findings, strict=True).passed and r.passed


def test_a_drill_that_could_not_start_is_an_environment_verdict() -> None:
    r = result(finding(FindingKind.DRILL_NOT_JUDGED, False, 86, sev="",
                       file="drills/weekly.yaml", subject="drill high-reject-rate"))
    assert not r.passed and r.regressions == () and len(r.unjudged) == 1
    text = summary.markdown(r)
    assert "could not be judged: the environment was not in steady state" in text
    assert "### Not judged — the environment kept these drills from starting (1)" in text


def test_shell_code_that_will_not_run_is_shown_to_the_reviewer() -> None:
    import dataclasses

    from pfdrill.model.runbook import NotRunBlock, NotRunReason

    block = NotRunBlock(section="Recovery Procedures / Performance Recovery", line=241,
                        end_line=243, language="bash", why=NotRunReason.HTML_COMMENT,
                        first_line="kubectl delete namespace production")
    r = result()
    verdict = dataclasses.replace(r.runbooks[0], diff=dataclasses.replace(
        DIFF, not_run_added=(block,)))
    text = summary.markdown(dataclasses.replace(r, runbooks=(verdict,)))
    assert ("- `runbooks/rb.md:241` Recovery Procedures / Performance Recovery: shell code that "
            "will not run — bash block inside an HTML comment — not rendered, not run: "
            "`kubectl delete namespace production`") in text
