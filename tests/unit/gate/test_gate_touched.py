"""Which drills a change touches: the real weekly suite, the real runbook, edits to both."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pfdrill.drill import suitefile
from pfdrill.gate import diff, touched
from pfdrill.model.drill import CheckKind, SuiteSpec
from pfdrill.model.gate import FindingKind
from pfdrill.runbook import parser

REPO = Path(__file__).resolve().parents[3]
RUNBOOK = REPO / "runbooks" / "policy-enforcement-incident-response.md"
TEXT = RUNBOOK.read_text(encoding="utf-8")
WEEKLY = suitefile.load(REPO / "drills" / "weekly.yaml")
ALL = tuple(d.name for d in WEEKLY.drills)
NOTHING = touched.Changes(files=frozenset(), faults={}, checks={})


def select(head_text: str = TEXT, *, head_suite: SuiteSpec = WEEKLY,
           changes: touched.Changes = NOTHING) -> touched.Touched:
    base = parser.parse_bytes(TEXT.encode(), RUNBOOK)
    head = parser.parse_bytes(head_text.encode(), RUNBOOK)
    book = touched.Book(head=head, base=base, diff=diff.diff(base, head), file="runbooks/rb.md")
    suite = touched.Suite("drills/weekly.yaml", head_suite, WEEKLY)
    return touched.select((suite,), {str(RUNBOOK.resolve()): book}, changes,
                          head_root=REPO, base_root=REPO)


def edit(old: str, new: str) -> str:
    assert TEXT.count(old) == 1, old
    return TEXT.replace(old, new)


def names(t: touched.Touched) -> tuple[str, ...]:
    return tuple(s.drill for s in t.selected)


def test_nothing_changed_selects_nothing() -> None:
    assert select() == touched.Touched((), ())


def test_a_section_one_drill_runs_selects_that_drill_with_the_reason() -> None:
    got = select(edit("--timeout=120s\n```\n\n### 3. Security Recovery",
                      "--timeout=180s\n```\n\n### 3. Security Recovery"))
    (chosen,) = got.selected
    assert chosen.drill == "high-reject-rate" and chosen.file == "drills/weekly.yaml"
    assert chosen.reasons == ("runs a changed section: Recovery Procedures / Performance "
                              "Recovery: 1 command edited",)
    assert chosen.line is not None and chosen.line > 1


def test_the_mitigation_every_drill_runs_selects_every_drill() -> None:
    got = select(edit("--replicas=0\n", "--replicas=0 --timeout=30s\n"))
    assert names(got) == ALL


def test_a_section_no_drill_runs_selects_none() -> None:
    got = select(edit("--prediction-window 10m", "--prediction-window 15m"))
    assert got.selected == () and got.findings == ()


def test_a_section_a_drill_runs_that_is_gone_is_a_regression_and_not_run() -> None:
    got = select(edit("### 2. Performance Recovery", "### 2. Capacity Recovery"))
    assert "high-reject-rate" not in names(got)
    (f,) = got.findings
    assert f.kind is FindingKind.SECTION_MISSING and not f.standing
    assert f.file == "drills/weekly.yaml" and "Performance Recovery" in f.subject


def test_a_changed_or_new_drill_entry_is_selected() -> None:
    first = WEEKLY.drills[0]
    changed = dataclasses.replace(first, expected_alerts=("Other",))
    renamed = dataclasses.replace(WEEKLY.drills[1], name="brand-new")
    suite = dataclasses.replace(WEEKLY, drills=(changed, renamed, *WEEKLY.drills[2:]))
    got = select(head_suite=suite)
    assert {s.drill: s.reasons for s in got.selected} == {
        first.name: ("drill entry changed (expected_alerts)",), "brand-new": ("new drill",)}


def test_feature_fault_and_check_code_select_the_drills_that_use_them() -> None:
    changes = touched.Changes(
        files=frozenset({"features/high_reject_rate.feature"}),
        faults={"dfa_tampering": ("src/pfdrill/faults/dfa.py",)},
        checks={CheckKind.NOTIFICATION: "src/pfdrill/drill/checks.py"})
    got = {s.drill: s.reasons for s in select(changes=changes).selected}
    assert got["high-reject-rate"] == ("its feature changed: features/high_reject_rate.feature",)
    assert got["dfa-tampering"][0] == "code of its fault dfa_tampering changed: src/pfdrill/faults/dfa.py"
    # the SEV-1 drills' mitigation waits for a security notification
    assert "code of its notification check changed: src/pfdrill/drill/checks.py" in \
        got["adapter-fail-open"]
