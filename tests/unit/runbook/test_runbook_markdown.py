"""Only what renders runs: the runbook's structure is what CommonMark renders, nothing else.

A ``bash`` block a reviewer cannot see (in an HTML comment, in raw HTML, in an
indented block, in a block quote) is never a command; it is listed as a
NotRunBlock with its line and why. What renders as a fenced block (``~~~``,
longer fences, fences in list items) runs, with the list indentation removed
as CommonMark removes it and the line numbers of the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.model.runbook import NotRunBlock, NotRunReason, Runbook
from pfdrill.runbook import parser

DATA = Path(__file__).parent / "data"
HEAD = "# T\n## S\n```bash\necho ok\n```\n"  # lines 1-5: one command that renders


def parse(text: str) -> Runbook:
    return parser.parse_bytes(text.encode("utf-8"), "rb.md")


def ran(book: Runbook) -> list[tuple[int, str]]:
    return [(c.line, c.text) for c in book.commands]


def not_run(book: Runbook) -> list[tuple[int, int, NotRunReason, str]]:
    return [(b.line, b.end_line, b.why, b.first_line) for b in book.not_run]


# --- what does not render does not run ----------------------------------------------------
def test_a_fence_inside_an_html_comment_does_not_run() -> None:
    book = parse(HEAD + "<!--\n```bash\ntouch /tmp/pwned\n```\n-->\n")
    assert ran(book) == [(4, "echo ok")]
    (hidden,) = book.not_run
    assert hidden == NotRunBlock(section="S", line=7, end_line=9, language="bash",
                                 why=NotRunReason.HTML_COMMENT, first_line="touch /tmp/pwned")
    assert hidden.describe() == ("line 7: bash block inside an HTML comment — not rendered, "
                                 "not run")


def test_a_fence_opened_on_the_comment_line_is_listed() -> None:
    book = parse(HEAD + "<!-- ```bash\ntouch /tmp/pwned\n``` -->\n")
    assert ran(book) == [(4, "echo ok")]
    assert not_run(book) == [(6, 8, NotRunReason.HTML_COMMENT, "touch /tmp/pwned")]


def test_a_one_line_comment_opener_with_text_hides_the_fence_too() -> None:
    book = parse(HEAD + "<!-- hidden from review:\n\n```sh\ncurl -X DELETE http://x\n```\n\n-->\n")
    assert ran(book) == [(4, "echo ok")]
    assert not_run(book) == [(8, 10, NotRunReason.HTML_COMMENT, "curl -X DELETE http://x")]


def test_an_indented_code_block_does_not_run() -> None:
    book = parse(HEAD + "\n    ```bash\n    touch x\n    ```\n\n    kubectl delete ns production\n")
    assert ran(book) == [(4, "echo ok")]
    assert not_run(book) == [(7, 11, NotRunReason.INDENTED_CODE, "touch x")]
    assert book.not_run[0].language == "bash"


def test_an_untagged_indented_shell_block_is_listed_and_prose_is_not() -> None:
    book = parse(HEAD + "\n    kubectl delete ns production\n\ntext\n\n    just: yaml\n")
    assert ran(book) == [(4, "echo ok")]
    assert not_run(book) == [(7, 7, NotRunReason.INDENTED_CODE, "kubectl delete ns production")]
    assert book.not_run[0].describe().startswith("line 7: shell block in an indented code block")


def test_a_fence_in_a_block_quote_does_not_run() -> None:
    book = parse(HEAD + "> Someone wrote:\n>\n> ```bash\n> touch x\n> ```\n")
    assert ran(book) == [(4, "echo ok")]
    assert not_run(book) == [(8, 10, NotRunReason.BLOCK_QUOTE, "touch x")]


def test_a_fence_in_raw_html_does_not_run_but_markdown_after_a_blank_line_does() -> None:
    book = parse(HEAD + "<details>\n```bash\ntouch x\n```\n</details>\n\n"
                 "<details>\n<summary>more</summary>\n\n```bash\necho shown\n```\n\n</details>\n")
    assert ran(book) == [(4, "echo ok"), (16, "echo shown")]
    assert not_run(book) == [(7, 9, NotRunReason.RAW_HTML, "touch x")]


def test_a_heading_in_a_comment_is_no_section() -> None:
    book = parse(HEAD + "<!--\n## Secret\n```bash\ntouch x\n```\n-->\n## Next\n```bash\necho n\n```\n")
    assert [s.name for s in book.sections] == ["S", "Next"]
    assert book.sections[0].not_run[0].section == "S"


# --- what renders runs ----------------------------------------------------------------------
def test_a_tilde_fence_runs() -> None:
    book = parse("# T\n## S\n~~~bash\necho a\n~~~\n")
    assert ran(book) == [(4, "echo a")]


def test_a_four_backtick_fence_runs_and_keeps_its_inner_triple_backticks() -> None:
    book = parse("# T\n## S\n````bash\ncat > notes.md <<'EOF'\n```\nx\n```\nEOF\n````\n")
    (cmd,) = book.commands
    assert (cmd.line, cmd.end_line) == (4, 8)
    assert cmd.text == "cat > notes.md <<'EOF'\n```\nx\n```\nEOF"
    assert book.sections[0].blocks[0].end_line == 9


def test_a_fence_in_a_list_item_runs_without_the_item_indentation() -> None:
    book = parse("# T\n## S\n1. Scale down:\n\n   ```bash\n   if true; then\n     echo a\n   fi\n"
                 "   ```\n\n2. Then:\n   ```bash\n   echo b\n   ```\n")
    assert ran(book) == [(6, "if true; then\n  echo a\nfi"), (13, "echo b")]
    assert [(b.line, b.end_line) for b in book.sections[0].blocks] == [(5, 9), (12, 14)]


def test_a_fence_in_a_comment_in_a_list_item_does_not_run() -> None:
    book = parse("# T\n## S\n1. Step\n\n   <!--\n   ```bash\n   touch x\n   ```\n   -->\n"
                 "   ```bash\n   echo ok\n   ```\n")
    assert ran(book) == [(11, "echo ok")]
    assert not_run(book) == [(6, 8, NotRunReason.HTML_COMMENT, "touch x")]


def test_comment_markers_inside_a_fence_are_code() -> None:
    book = parse("# T\n## S\n```bash\necho '<!--'\necho hi\necho '-->'\n```\n")
    assert [t for _, t in ran(book)] == ["echo '<!--'", "echo hi", "echo '-->'"]


def test_an_inline_comment_opener_in_a_paragraph_hides_nothing() -> None:
    # Raw inline HTML must close within its paragraph; the fence interrupts it and renders.
    book = parse("# T\n## S\nText <!--\n```bash\necho shown\n```\n-->\n")
    assert ran(book) == [(5, "echo shown")]
    assert book.not_run == ()


# --- comments: nesting and unterminated -------------------------------------------------
def test_comments_do_not_nest_the_first_closer_ends_the_comment() -> None:
    book = parse("# T\n## S\n<!-- a <!-- b -->\n```bash\necho visible\n```\n-->\n")
    assert ran(book) == [(5, "echo visible")]
    book = parse("# T\n## S\n<!--\n<!-- inner -->\n```bash\necho visible\n```\n-->\n")
    assert ran(book) == [(6, "echo visible")]


def test_an_unterminated_comment_hides_the_rest_and_says_so() -> None:
    book = parse(HEAD + "<!--\n```bash\ntouch x\n```\n## U\n```bash\necho b\n```\n")
    assert ran(book) == [(4, "echo ok")]
    assert [s.name for s in book.sections] == ["S"]
    assert not_run(book) == [(7, 9, NotRunReason.HTML_COMMENT, "touch x"),
                             (11, 13, NotRunReason.HTML_COMMENT, "echo b")]
    assert any(n.startswith("line 6: HTML comment never closed") for n in book.notes)


def test_an_unterminated_comment_in_a_list_item_ends_with_the_item() -> None:
    book = parse("# T\n## S\n- a\n\n  <!--\n  ```bash\n  touch x\n  ```\n\n"
                 "```bash\necho after\n```\n")
    assert ran(book) == [(11, "echo after")]
    assert not_run(book) == [(6, 8, NotRunReason.HTML_COMMENT, "touch x")]


def test_deeply_nested_raw_html_is_bounded_and_never_runs() -> None:
    text = "# T\n## S\n```bash\necho ok\n```\n" + "<div>\n" * 200 + "```bash\ntouch x\n```\n"
    book = parse(text)
    assert ran(book) == [(4, "echo ok")]


# --- directives: metadata a reviewer reads in the source ----------------------------------
def test_directives_are_read_in_comments_but_not_in_code_or_quotes() -> None:
    book = parse(HEAD + "<!-- pfdrill: expect deployment w ready >= 1 -->\n"
                 "Some prose.\n<!-- pfdrill: expect deployment w replicas == 2 -->\n\n"
                 "1. item\n\n   <!-- pfdrill: expect configmap c k == v -->\n\n"
                 "```text\n<!-- pfdrill: expect deployment in-fence ready == 9 -->\n```\n"
                 "> <!-- pfdrill: expect deployment quoted ready == 9 -->\n\n"
                 "    <!-- pfdrill: expect deployment indented ready == 9 -->\n")
    assert [(d.line, d.text) for d in book.sections[0].directives] == [
        (6, "expect deployment w ready >= 1"), (8, "expect deployment w replicas == 2"),
        (12, "expect configmap c k == v")]


# --- headings ---------------------------------------------------------------------------------
def test_headings_are_what_commonmark_sees() -> None:
    book = parse("Title\n=====\n\n## 1. **Part** ##\n\n#NoSpace is prose\n\n"
                 "### Step\n```bash\necho a\n```\n> ## Quoted heading\n\n"
                 "Two line\nsetext\n------\n```bash\necho b\n```\n")
    assert book.title == "Title"
    assert [(s.path, s.title, s.line) for s in book.sections] == [
        (("Part",), "1. **Part**", 4), (("Part", "Step"), "Step", 8), (("Two line setext",), "Two line setext", 14)]


def test_a_multi_line_paragraph_over_dashes_is_a_setext_heading() -> None:
    # The old line scanner only knew one-line setext headings: "line two\n---" was prose.
    book = parse("# T\n## A\nline one\nline two\n---\n```bash\necho\n```\n")
    assert [s.path for s in book.sections] == [("A",), ("line one line two",)]
    assert book.commands[0].section == "line one line two"


# --- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, line", [
    ("# T\n## S\n```bash\necho hi\n", 3),
    ("# T\n## S\n1. x\n   ```bash\n   echo\n2. y\n", 4),  # closed by the item's end: still a typo
    ("# T\n## S\n~~~~\necho\n~~~\n", 3),  # a shorter fence does not close a longer one
])
def test_an_unclosed_fence_that_renders_is_an_error(text: str, line: int) -> None:
    with pytest.raises(InvalidInput, match="opened here is never closed") as err:
        parse(text)
    assert (err.value.file, err.value.line) == ("rb.md", line)


def test_a_list_fence_closed_at_the_margin_says_where_its_item_ended() -> None:
    with pytest.raises(InvalidInput) as err:
        parse("# T\n## S\n1. x\n   ```bash\n   echo\n```\n")
    assert err.value.line == 4
    assert err.value.message == ("code fence ``` opened here is never closed (its list item "
                                 "ends at line 5: a closing fence is indented like the opening "
                                 "one)")


def test_an_unclosed_fence_in_a_comment_is_no_error() -> None:
    book = parse(HEAD + "<!--\n```bash\ntouch x\n-->\n")
    assert ran(book) == [(4, "echo ok")]
    assert not_run(book) == [(7, 8, NotRunReason.HTML_COMMENT, "touch x")]


def test_lone_cr_line_ends_are_line_ends_as_commonmark_reads_them() -> None:
    book = parse("# T\r## S\r```bash\recho a\r```\r")
    assert ran(book) == [(4, "echo a")]
    assert "CR line ends read as LF" in book.notes


def test_runbook_parse_lists_what_does_not_run(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from pfdrill.cli import main

    path = tmp_path / "rb.md"
    path.write_text(HEAD + "<!--\n```bash\ntouch /tmp/pwned\n```\n-->\n", encoding="utf-8")
    assert main(["runbook", "parse", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == ["     4  setup         echo ok",
                        "     7  not run       bash block inside an HTML comment — not rendered, "
                        "not run"]
    assert main(["runbook", "parse", str(path), "--json"]) == 0
    (section,) = json.loads(capsys.readouterr().out)["sections"]
    assert section["not_run"] == [{"section": "S", "line": 7, "end_line": 9, "language": "bash",
                                   "why": "html-comment", "first_line": "touch /tmp/pwned"}]


# --- the project's runbooks read as before ---------------------------------------------------
def structure(book: Runbook) -> dict[str, Any]:
    """Sections, blocks, commands and directives, as the goldens were written (pre-CommonMark)."""
    return {"title": book.title, "sections": [
        {"path": list(s.path), "title": s.title, "level": s.level, "line": s.line,
         "blocks": [{"line": b.line, "end_line": b.end_line, "language": b.language,
                     "shell": b.shell,
                     "commands": [{"line": c.line, "end_line": c.end_line, "text": c.text,
                                   "description": c.description, "language": c.language}
                                  for c in b.commands]}
                    for b in s.blocks],
         "directives": [{"line": d.line, "text": d.text} for d in s.directives]}
        for s in book.sections]}


@pytest.mark.parametrize("name", ["seed-runbook", "project-runbook"])
def test_the_runbooks_parse_exactly_as_the_line_scanner_read_them(name: str) -> None:
    """Goldens written by the line-scanning parser this module replaced (main at 331cfab).

    ``project-runbook.md`` is runbooks/policy-enforcement-incident-response.md at that
    commit, ``seed-runbook.md`` the seed: neither hides code, so nothing may differ.
    """
    book = parser.parse_file(DATA / f"{name}.md")
    golden = json.loads((DATA / f"{name}.structure.json").read_text(encoding="utf-8"))
    assert structure(book) == golden
    assert book.not_run == ()
    assert book.notes == ()
