"""Fuzzing the runbook parser with bad input: pfdrill's own error with a location, or a parse.

Whatever bytes a runbook pull request holds, ``pfdrill runbook parse|check``
must answer with an :class:`~pfdrill.errors.InvalidInput` naming the file (and
the line, for anything that has one) or a runbook whose records are sane — never
another exception, never a hang. Inputs are built from the pieces that make
Markdown and bash hard (fences of every kind, comments, quotes, lists, heredocs,
prompts, directives, encodings, line ends) as well as raw bytes. A second
property pins the safety rule: code that does not render never runs.

Bounded in ``make test``; ``PFDRILL_FUZZ=long`` (``make fuzz``) runs the long profile.
"""

from __future__ import annotations

import codecs
import os

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from pfdrill.errors import InvalidInput
from pfdrill.model.runbook import Runbook
from pfdrill.runbook import expect, parser

pytestmark = pytest.mark.fuzz

# The profiles every parser's fuzz test shares (tests/conftest.py): each example bounded
# by a deadline, so a hang or a blow-up fails.
FUZZ = settings.get_profile(
    "pfdrill-fuzz-long" if os.environ.get("PFDRILL_FUZZ") == "long" else "pfdrill-fuzz")

SOURCE = "fuzz.md"
# Problems of the whole file, which have no line to name.
WHOLE_FILE = ("no bash code blocks", "binary file, not a Markdown runbook (control bytes)",
              "not a text file")

# Whole commands (bash reads each as complete) and fragments that leave something open.
_COMMAND = st.sampled_from([
    "kubectl get pods -n production", "echo \"$SEVERITY\"", "./pfctl status", "# a comment",
    "curl -X POST \"$SLACK_WEBHOOK\" -d '{\"text\":\"🚨\"}'", "", "echo '<!--'", "echo '-->'",
    "$ kubectl get ns", "NAME STATUS", "x=1 \\\n  y=2", "kubectl get ns |\n  grep prod",
    "if true; then\n  echo a\nfi", "cat > f <<EOF\n```\nbody\nEOF", "echo $(date) ${HOME}",
    "for x in a b; do echo $x; done", "case $x in a) echo a;; esac", "echo `date` $((1 + 2))",
    "f() { echo f; }", "time sleep 0", "echo $'a\\'b'", "cat <<-'END'\n\tbody\n\tEND",
])
_FRAGMENT = st.sampled_from([
    "echo 'unterminated", "echo \"open", "cat > f <<EOF", "if true; then", "fi", "done", "esac",
    "for x in a b; do", "{", "}", "( cd /tmp", ")", "echo $(date", "echo ${HOME", "x=1 \\",
    "kubectl get ns |", "true &&", "function f() {", "select x in a; do", "`", "'", "\"", "<<",
])
_INFO = st.sampled_from(["bash", "bash", "bash", "sh", "console", "shell-session", "", "",
                         "json", "yaml", "bash {.line-numbers}", "BASH", "text", "zsh"])
_PROSE = st.sampled_from([
    "# Title", "## Section", "### 1. **Step** ###", "#NoSpace", "Title", "=====", "-----", "---",
    "***", "<!--", "-->", "<!-- note -->", "<!-- <!-- nested -->", "<details>", "</details>",
    "<pre>", "</pre>", "<div>", "<script>", "</script>", "<?php", "?>", "<![CDATA[", "]]>",
    "> quote", ">", "- item", "1. item", "  - nested", "| a | b |", "|---|---|",
    "text with <!-- inline", "[link](http://x)", "    indented code", "",
    "<!-- pfdrill: expect configmap policy-config enforcement_mode == enforce -->",
    "<!-- pfdrill: expect deployment sidecar-watcher ready >= 1 when SEVERITY == SEV-1 -->",
    "<!-- pfdrill: expect notification security >= 1 -->",
])
_BROKEN = st.sampled_from([  # lines that open a fence nobody closes, directives pfdrill refuses
    "   ```bash", "    ```", "\t```", "````", "~~~", "~~~~", "```", "``` bash", "```` `x",
    "<!-- pfdrill: expect deployment w replicas == x -->", "<!-- pfdrill: expect -->",
    "<!-- pfdrill: expect notification nowhere >= 1 -->", "<!-- pfdrill: frobnicate -->",
])
_WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                                        blacklist_characters="`~"), max_size=40)
_ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


def _line(clean: bool) -> st.SearchStrategy[str]:
    if clean:
        return st.one_of(_COMMAND, _PROSE, _PROSE, _WORDS)
    return st.one_of(_COMMAND, _FRAGMENT, _PROSE, _BROKEN, _ANY_TEXT)


@st.composite
def _fence(draw: st.DrawFn, clean: bool) -> str:
    """A fenced block; unless ``clean``, sometimes broken (open, mismatched, bad shell)."""
    char = draw(st.sampled_from("`~"))
    n = draw(st.integers(3, 5))
    indent = " " * draw(st.sampled_from([0, 0, 0, 0, 1, 2, 3, 4, 5]))
    shell = _COMMAND if clean else st.one_of(_COMMAND, _COMMAND, _COMMAND, _FRAGMENT)
    body = "\n".join(draw(st.lists(shell, max_size=6))).split("\n")
    closers = [char * n] if clean else [char * n] * 12 + [char * (n + 1), char * 3, "", "~~~"]
    close = draw(st.sampled_from(closers))
    lines = [f"{indent}{char * n}{draw(_INFO)}", *(indent + b for b in body)]
    return "\n".join([*lines, indent + close] if close else lines)


@st.composite
def _wrapped(draw: st.DrawFn, clean: bool) -> str:
    """A piece put in a container: comment, quote, list item, raw HTML, indentation."""
    inner = draw(st.one_of(_fence(clean), _line(clean), _fence(clean)))
    how = draw(st.sampled_from(["comment", "open-comment", "quote", "list", "html", "indent"]))
    if how == "comment":
        return f"<!--\n{inner}\n-->"
    if how == "open-comment":
        return f"<!-- {inner}"
    if how == "quote":
        return "\n".join("> " + ln for ln in inner.split("\n"))
    if how == "list":
        return "1. step\n\n" + "\n".join("   " + ln for ln in inner.split("\n"))
    if how == "html":
        return f"<details>\n{inner}\n</details>"
    return "\n".join("    " + ln for ln in inner.split("\n"))


def _markdown(clean: bool) -> st.SearchStrategy[str]:
    piece = st.one_of(_line(clean), _fence(clean), _fence(clean), _wrapped(clean))
    return st.lists(piece, max_size=25).map("\n".join)


@st.composite
def _document(draw: st.DrawFn, clean: bool) -> bytes:
    """Markdown text, encoded the way files arrive (BOMs, UTF-16, cp1252, CR/CRLF)."""
    text = draw(_markdown(clean))
    ends = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = text.replace("\n", ends)
    how = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "truncated"]))
    if how == "utf-16":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le", "surrogatepass")
    if how == "cp1252":
        return text.encode("cp1252", "replace")
    data = text.encode("utf-8", "surrogatepass")
    if how == "truncated":
        return data[: draw(st.integers(0, len(data)))]
    return (codecs.BOM_UTF8 + data) if how == "utf-8-sig" else data


def _parse(data: bytes, require_shell: bool) -> Runbook | None:
    """Parse as ``pfdrill runbook parse`` loads a runbook (directives planned too); None on error."""
    try:
        book = parser.parse_bytes(data, SOURCE, require_shell=require_shell)
        expect.plan(book.sections, book.source)
    except InvalidInput as err:
        _check_error(err, data)
        event("refused")
        return None
    event("parsed" if book.commands else "parsed, no commands")
    return book


def _check_error(err: InvalidInput, data: bytes) -> None:
    assert err.file == SOURCE
    message = str(err)
    assert message.startswith(SOURCE + ":"), message
    assert "\n" not in message and "\r" not in message, message
    if err.line is None:
        assert err.message.startswith(WHOLE_FILE), f"no line for: {message}"
    else:
        assert 1 <= err.line <= _lines(data), message


def _lines(data: bytes) -> int:
    """How many lines the parser sees (after decoding and reading CR/CRLF as line ends)."""
    try:
        text, _, _ = parser.decode(data, SOURCE)
    except InvalidInput:
        return data.count(b"\n") + 1
    return text.count("\n") + 1


def _check_book(book: Runbook) -> None:
    """Records point into the file, and nothing that does not render is a command."""
    for section in book.sections:
        for block in section.blocks:
            assert block.line < block.end_line
            for c in block.commands:
                assert block.line < c.line <= c.end_line < block.end_line
                assert c.section == section.name and c.text.strip()
                assert block.shell
        for hidden in section.not_run:
            assert hidden.line <= hidden.end_line
            assert not any(hidden.line <= c.line <= hidden.end_line for c in book.commands)


@FUZZ
@given(data=_document(clean=False), require_shell=st.booleans())
def test_broken_markdown_parses_or_fails_with_a_location(data: bytes, require_shell: bool) -> None:
    book = _parse(data, require_shell)
    if book is not None:
        _check_book(book)


@FUZZ
@given(data=_document(clean=True))
def test_well_formed_markdown_parses_into_sane_records(data: bytes) -> None:
    book = _parse(data, require_shell=False)
    if book is not None:
        _check_book(book)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_any_bytes_parse_or_fail_with_a_location(data: bytes) -> None:
    book = _parse(data, require_shell=False)
    if book is not None:
        _check_book(book)


MARKER = "touch /tmp/pfdrill-fuzz-hidden-marker"
_HIDE = st.sampled_from([
    "<!--\n```bash\n{m}\n```\n-->", "<!-- x\n\n~~~sh\n{m}\n~~~\n\n-->", "<!--\n```bash\n{m}\n",
    "> ```bash\n> {m}\n> ```", "    ```bash\n    {m}\n    ```", "    {m}",
    "<details>\n```bash\n{m}\n```\n</details>", "- a\n\n  <!--\n  ```bash\n  {m}\n  ```\n  -->",
    "> - item\n>   ```bash\n>   {m}\n>   ```", "<pre>\n```bash\n{m}\n```\n</pre>",
])


@FUZZ
@given(before=_markdown(clean=True), hide=_HIDE, after=_markdown(clean=False))
def test_code_that_does_not_render_never_runs(before: str, hide: str, after: str) -> None:
    """Whatever surrounds it, a block hidden from the reader is never a command.

    When the heading just above it renders as a heading, nothing ``before`` left
    open (a list, a quote, a paragraph, a fence, a comment) reaches the block;
    when it does not, ``before`` swallowed the block and there is nothing to say.
    """
    prefix = f"{before}\n\n"
    text = f"{prefix}## Hidden here\n\n{hide.format(m=MARKER)}\n\n{after}\n"
    book = _parse(text.encode("utf-8"), require_shell=False)
    if book is None:
        return
    heading = prefix.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    assume(any(s.title == "Hidden here" and s.line == heading for s in book.sections))
    assert not any(MARKER in c.text for c in book.commands)
    assert any(b.first_line == MARKER for b in book.not_run)
