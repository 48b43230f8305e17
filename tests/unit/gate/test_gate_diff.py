"""How a runbook changed, in terms of what runs: sections by heading path, commands by text."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.gate import diff
from pfdrill.model.gate import Change
from pfdrill.model.runbook import Runbook
from pfdrill.runbook import parser

REPO = Path(__file__).resolve().parents[3]
RUNBOOK = REPO / "runbooks" / "policy-enforcement-incident-response.md"
TEXT = RUNBOOK.read_text(encoding="utf-8")
MITIGATION = "Incident Response Actions / Immediate Mitigation"
RECOVERY = "Recovery Procedures / Policy Enforcement Recovery"
PERFORMANCE = "Recovery Procedures / Performance Recovery"
FINAL_ENFORCE = ("# Finally, re-enable enforcement\nkubectl patch configmap policy-config -n "
                 "production --patch '{\"data\":{\"enforcement_mode\":\"enforce\"}}'\n")


def book(text: str) -> Runbook:
    return parser.parse_bytes(text.encode(), "runbook.md")


def edited(old: str, new: str) -> Runbook:
    assert TEXT.count(old) == 1, old
    return book(TEXT.replace(old, new))


@pytest.fixture(scope="module")
def base() -> Runbook:
    return book(TEXT)


def test_the_same_runbook_changes_nothing(base: Runbook) -> None:
    d = diff.diff(base, book(TEXT))
    assert d.identical and not d.changed
    assert all(c.change is Change.SAME for s in d.sections for c in s.commands)


def test_prose_and_line_shifts_change_nothing_that_runs(base: Runbook) -> None:
    head = edited("## Incident Classification\n",
                  "A new paragraph\nspanning two lines.\n\n## Incident Classification\n")
    d = diff.diff(base, head)
    assert not d.identical
    assert d.changed == ()
    moved = next(s for s in d.sections if s.name == MITIGATION)
    assert moved.head_line == moved.base_line + 3  # every line moved, nothing changed


def test_renumbered_headings_and_reflowed_commands_still_match(base: Runbook) -> None:
    head = edited("### 1. Immediate Mitigation", "### 7. Immediate   Mitigation")
    head_text = TEXT.replace("### 1. Immediate Mitigation", "### 7. Immediate Mitigation")
    head2 = book(head_text.replace(
        "kubectl rollout restart deployment/sidecar-watcher -n production\n",
        "kubectl rollout restart \\\n  deployment/sidecar-watcher -n production\n"))
    assert diff.diff(base, head).changed == ()
    assert diff.diff(base, head2).changed == ()


def test_one_edited_command_marks_only_its_section(base: Runbook) -> None:
    head = edited("kubectl rollout restart deployment/sidecar-watcher -n production\n"
                  "kubectl rollout status deployment/sidecar-watcher -n production --timeout=120s",
                  "kubectl rollout restart deployment/sidecar-watcher -n production\n"
                  "kubectl rollout status deployment/sidecar-watcher -n production --timeout=180s")
    d = diff.diff(base, head)
    assert [s.name for s in d.changed] == [PERFORMANCE]
    (edit,) = [c for c in d.changed[0].commands if c.change is not Change.SAME]
    assert edit.change is Change.EDITED
    assert edit.base is not None and edit.head is not None
    assert "--timeout=120s" in edit.base.text and "--timeout=180s" in edit.head.text
    assert d.changed[0].describe() == f"{PERFORMANCE}: 1 command edited"


def test_a_removed_command_is_removed(base: Runbook) -> None:
    d = diff.diff(base, edited(FINAL_ENFORCE, ""))
    (section,) = d.changed
    assert section.name == RECOVERY
    (gone,) = [c for c in section.commands if c.change is Change.REMOVED]
    assert gone.base is not None and '"enforce"' in gone.base.text and gone.head is None


def test_a_command_moved_to_another_section_is_moved_not_removed(base: Runbook) -> None:
    line = "./pfctl health check --env production --full || echo \"health check found problems: see above\"\n"
    text = TEXT.replace(line, "", 1).replace(
        "# Optimize resource allocation\n", "# Optimize resource allocation\n" + line, 1)
    d = diff.diff(base, book(text))
    kinds = {(s.name, c.change) for s in d.sections for c in s.commands if c.change is not Change.SAME}
    assert kinds == {(PERFORMANCE, Change.MOVED)}
    moved = next(c for s in d.sections for c in s.commands if c.change is Change.MOVED)
    assert moved.base is not None and moved.base.section.endswith("Root Cause Analysis")
    assert moved.head is not None and moved.head.section == PERFORMANCE


def test_a_renamed_section_is_removed_and_added(base: Runbook) -> None:
    d = diff.diff(base, edited("### 2. Performance Recovery", "### 2. Capacity Recovery"))
    changes = {s.name: s.change for s in d.changed}
    assert changes == {PERFORMANCE: Change.REMOVED,
                       "Recovery Procedures / Capacity Recovery": Change.ADDED}


def test_expectations_count_as_what_runs(base: Runbook) -> None:
    line = "<!-- pfdrill: expect configmap policy-config enforcement_mode == enforce -->\n"
    d = diff.diff(base, edited(line, ""))
    (section,) = d.changed
    assert section.name == RECOVERY and section.change is Change.EDITED
    assert section.expectations_removed == (
        "expect configmap policy-config enforcement_mode == enforce",)


def test_a_new_runbook_has_only_added_sections() -> None:
    d = diff.diff(None, book(TEXT))
    assert d.base == "" and all(s.change is Change.ADDED for s in d.sections)


def test_normalize_ignores_comments_continuations_and_spacing() -> None:
    assert diff.normalize("# say why\nkubectl  get pods \\\n   -n production\n") == \
        "kubectl get pods -n production"


def test_shell_code_added_where_it_does_not_run_is_listed_for_the_reviewer(base: Runbook) -> None:
    hidden = "<!--\n```bash\nkubectl delete namespace production\n```\n-->\n"
    d = diff.diff(base, edited("### 2. Performance Recovery\n",
                               "### 2. Performance Recovery\n\n" + hidden))
    (block,) = d.not_run_added
    assert block.section == PERFORMANCE and block.first_line == "kubectl delete namespace production"
    assert "HTML comment" in block.summary()
    assert d.changed == ()  # nothing that runs changed
    assert diff.diff(book(TEXT.replace("### 2. Performance Recovery\n",
                                       "### 2. Performance Recovery\n\n" + hidden)),
                     edited("### 2. Performance Recovery\n",
                            "### 2. Performance Recovery\n\n" + hidden)).not_run_added == ()
