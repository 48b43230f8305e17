"""The severities a runbook branches on, read from its text."""

from __future__ import annotations

from pathlib import Path

from pfdrill.gate import severity
from pfdrill.model.runbook import Runbook
from pfdrill.runbook import parser

REPO = Path(__file__).resolve().parents[3]


def book(body: str) -> Runbook:
    return parser.parse_bytes(f"# R\n\n## S\n\n```bash\n{body}\n```\n".encode(), "r.md")


def test_the_project_and_seed_runbooks_branch_on_sev1_and_sev2() -> None:
    project = parser.parse_file(REPO / "runbooks" / "policy-enforcement-incident-response.md")
    seed = parser.parse_file(REPO / "tests" / "unit" / "runbook" / "data" / "seed-runbook.md")
    assert severity.branches(project) == ("SEV-1", "SEV-2")
    assert severity.branches(seed) == ("SEV-1", "SEV-2")


def test_test_commands_in_every_spelling() -> None:
    b = book('if [[ $SEVERITY == SEV-3 ]]; then echo a; fi\n'
             'test "${SEVERITY}" != "SEV-4" && echo b\n'
             'if [ "$OTHER" = "SEV-2" ]; then echo c; fi')
    assert severity.branches(b) == ("SEV-3", "SEV-4")


def test_case_patterns_and_expectation_clauses() -> None:
    text = ('# R\n\n## S\n\n```bash\ncase "$SEVERITY" in\n  SEV-1|SEV-2) echo page ;;\n'
            '  *) echo later ;;\nesac\n```\n\n'
            '<!-- pfdrill: expect notification team >= 1 when SEVERITY == SEV-3 -->\n')
    b = parser.parse_bytes(text.encode(), "r.md")
    assert severity.branches(b) == ("SEV-1", "SEV-2", "SEV-3")


def test_a_runbook_without_branches_runs_once_at_the_default() -> None:
    b = book("kubectl get pods -n production")
    assert severity.branches(b) == ()
    assert severity.to_run(b) == (severity.DEFAULT,)


def test_base_and_head_branches_are_run_together() -> None:
    base = book('if [ "$SEVERITY" = "SEV-2" ]; then echo x; fi')
    head = book('if [ "$SEVERITY" = "SEV-1" ]; then echo x; fi')
    assert severity.to_run(base, head) == ("SEV-1", "SEV-2")
