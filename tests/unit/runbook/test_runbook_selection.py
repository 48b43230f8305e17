"""Choosing sections by the names people type."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.model.runbook import Runbook
from pfdrill.runbook import parser, selection

SEED = Path(__file__).parent / "data" / "seed-runbook.md"


@pytest.fixture(scope="module")
def book() -> Runbook:
    return parser.parse_file(SEED)


@pytest.mark.parametrize("name", [
    "Immediate Mitigation", "immediate mitigation", "1. Immediate Mitigation",
    "Incident Response Actions / Immediate Mitigation", "incident response actions > immediate  mitigation",
])
def test_a_section_by_tail_full_path_numbering_or_case(book: Runbook, name: str) -> None:
    (s,) = selection.select(book, [name])
    assert s.name == "Incident Response Actions / Immediate Mitigation"


def test_a_parent_brings_its_subsections_in_document_order(book: Runbook) -> None:
    chosen = selection.select(book, ["Recovery Procedures"])
    assert [s.name for s in chosen] == [
        "Recovery Procedures", "Recovery Procedures / Policy Enforcement Recovery",
        "Recovery Procedures / Performance Recovery", "Recovery Procedures / Security Recovery"]


def test_no_name_is_the_whole_runbook_and_repeats_collapse(book: Runbook) -> None:
    assert selection.select(book, []) == book.sections
    twice = selection.select(book, ["Post-Mortem", "Post-Incident / Post-Mortem"])
    assert len(twice) == 1


def test_an_unknown_section_lists_the_ones_that_exist(book: Runbook) -> None:
    with pytest.raises(InvalidInput) as err:
        selection.select(book, ["Rollback"])
    assert "no section named 'Rollback'" in err.value.message
    assert "Incident Response Actions / Immediate Mitigation" in err.value.message
    assert err.value.file == str(SEED)


def test_an_ambiguous_name_is_refused() -> None:
    book = parser.parse_bytes(b"# T\n## A\n### Notes\n```sh\necho a\n```\n## B\n### Notes\n"
                              b"```sh\necho b\n```\n", "rb.md")
    with pytest.raises(InvalidInput, match="ambiguous: A / Notes; B / Notes"):
        selection.select(book, ["Notes"])
