"""A runbook's Markdown structure exactly as CommonMark renders it: headings, fences, directives.

A runbook is code a reviewer reads on GitHub, so pfdrill must see the blocks a
reader sees and nothing else. Finding fences line by line does not: a
```` ```bash ```` block inside ``<!-- … -->`` is invisible when rendered yet
looks like any other fence to a line scanner. The structure therefore comes
from markdown-it-py (a CommonMark-compliant parser, GFM tables enabled, as
GitHub's cmark-gfm renders them), and pfdrill's own reading of commands,
prompts and directives (:mod:`pfdrill.runbook.parser`) sits on top.

What renders as a fenced code block outside a block quote — at the top level
or in a list item, ```` ``` ````, ``~~~`` or longer fences — is a
:class:`Fence` and may run. Shell-looking code that does not render as such a
block is a :class:`Hidden` item, kept so ``pfdrill runbook check`` can say what
it deliberately did not run and why: fences in HTML comments or other raw HTML
(found by parsing the HTML block's text as Markdown, i.e. what would render if
the comment were removed), indented code blocks, and anything in a block quote.

A ``<!-- pfdrill: … -->`` line in an HTML block outside a block quote is a
:class:`~pfdrill.model.runbook.Directive`. Directives are metadata, not code:
they are meant to be invisible when rendered and are read in the source, as a
reviewer reads a diff; they state what must hold and run nothing. Code in a
comment never runs. Pure: text in, items out.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

from pfdrill.model.runbook import Directive, NotRunReason

_DIRECTIVE = re.compile(r"^\s*<!--\s*pfdrill:\s*(?P<text>.*?)\s*-->\s*$")
_FENCE_LINE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
# How deep raw HTML inside raw HTML is searched for hidden fences. Nothing below
# runs either way; the bound keeps the work on adversarial nesting O(depth x size).
_HIDDEN_DEPTH = 8


@dataclasses.dataclass(frozen=True)
class Heading:
    level: int
    title: str  # as written, without the '#' marks or the setext underline
    line: int


@dataclasses.dataclass(frozen=True)
class Fence:
    """A fenced code block a reader sees; ``body`` lines have the list-item indentation removed."""

    info: str
    line: int  # the opening fence
    end_line: int  # the closing fence
    body: tuple[tuple[int, str], ...]  # (line number, text)


@dataclasses.dataclass(frozen=True)
class Hidden:
    """Code in the file that does not render as a fenced block (it never runs)."""

    why: NotRunReason
    info: str
    line: int
    end_line: int
    body: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Unclosed:
    """A fence whose closing fence never comes (it would swallow what follows)."""

    markup: str
    line: int
    end_line: int  # its last line: the end of the file, or of the list item it is in


@dataclasses.dataclass(frozen=True)
class OpenComment:
    """An HTML comment that is never closed: nothing after it renders, to the end of its container."""

    line: int


Item = Heading | Fence | Hidden | Directive | Unclosed | OpenComment


@functools.cache
def _parser() -> MarkdownIt:
    # Inline markup (emphasis, links) never changes which blocks there are: skip parsing it.
    return MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])


def items(text: str) -> tuple[Item, ...]:
    """The runbook's structure in document order; ``text`` has LF line ends."""
    return tuple(_walk(_tokens(text), 0, None, 0))


def _tokens(text: str) -> list[Token]:
    # Every line ends in a newline, so a fence's content has one per line (see _closed).
    return _parser().parse(text if text.endswith("\n") else text + "\n")


def _walk(tokens: Sequence[Token], offset: int, hidden: NotRunReason | None,
          depth: int) -> Iterator[Item]:
    """Items of ``tokens`` whose line 0 is file line ``offset`` + 1.

    ``hidden`` is set when the tokens come from text that does not render as
    Markdown (an HTML block's text): then every code block found is Hidden.
    """
    quotes = 0
    for i, tok in enumerate(tokens):
        if tok.type == "blockquote_open":
            quotes += 1
            continue
        if tok.type == "blockquote_close":
            quotes -= 1
            continue
        if tok.map is None:
            continue
        start, end = tok.map[0] + offset, tok.map[1] + offset
        why = hidden or (NotRunReason.BLOCK_QUOTE if quotes else None)
        if tok.type == "heading_open" and why is None:
            title = " ".join(tokens[i + 1].content.split("\n"))  # setext: several lines
            yield Heading(int(tok.tag[1:]), title, start + 1)
        elif tok.type == "fence":
            body = tok.content.split("\n")[:-1]
            if why is not None:
                yield Hidden(why, tok.info, start + 1, end, tuple(body))
            elif not _closed(tok):
                yield Unclosed(tok.markup, start + 1, end)
            else:
                yield Fence(tok.info, start + 1, end,
                            tuple((start + 2 + n, t) for n, t in enumerate(body)))
        elif tok.type == "code_block":
            yield _code_block(tok, start, why or NotRunReason.INDENTED_CODE)
        elif tok.type == "html_block":
            yield from _html_block(tok, start, why, depth)


def _closed(fence: Token) -> bool:
    """Whether the fence has its closing line (markdown-it closes it silently at the end)."""
    assert fence.map is not None
    return fence.map[1] - fence.map[0] == fence.content.count("\n") + 2


def _code_block(tok: Token, start: int, why: NotRunReason) -> Hidden:
    """An indented code block, shown as text; a fence written inside it names its language."""
    assert tok.map is not None
    body = tok.content.split("\n")[:-1]
    opener = _FENCE_LINE.match(next((t for t in body if t.strip()), ""))
    if opener is not None:
        body = [t for t in body if not _FENCE_LINE.match(t)]
    return Hidden(why, opener.group("info") if opener else "", start + 1,
                  start + tok.map[1] - tok.map[0], tuple(body))


def _html_block(tok: Token, start: int, why: NotRunReason | None,
                depth: int) -> Iterator[Item]:
    text = tok.content
    opener = text.lstrip(" \t")
    comment = opener.startswith("<!--")
    if why is None:
        if comment and "-->" not in text:
            yield OpenComment(start + 1)
        for n, line in enumerate(text.split("\n")):
            m = _DIRECTIVE.match(line)
            if m:
                yield Directive(start + 1 + n, m.group("text"))
    # A comment: what it holds, on the lines where it is ("<!-- ```bash" hides a fence too).
    # Other raw HTML: blank the tag's line, which would make the text raw again.
    inner = (opener[len("<!--"):].split("-->", 1)[0] if comment
             else "\n" + text.partition("\n")[2])
    yield from _inner(inner, start,
                      why or (NotRunReason.HTML_COMMENT if comment else NotRunReason.RAW_HTML),
                      depth)


def _inner(text: str, start: int, why: NotRunReason, depth: int) -> Iterator[Item]:
    """Code blocks that would render if this raw HTML text were Markdown (they do not: Hidden)."""
    if depth >= _HIDDEN_DEPTH:
        return
    found = _walk(_tokens(text), start, why, depth + 1)
    yield from (item for item in found if isinstance(item, Hidden))
