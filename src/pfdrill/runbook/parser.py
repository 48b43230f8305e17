"""Markdown runbook → sections, code blocks and commands. Pure: bytes in, records out.

Only what renders runs: headings and fenced blocks are what CommonMark sees
(:mod:`pfdrill.runbook.markdown`), so a block in an HTML comment, an indented
block or a block quote never runs; each is listed as a
:class:`~pfdrill.model.runbook.NotRunBlock` on its section instead. On top,
pfdrill reads what is its own: shell languages, untagged blocks that are
plainly shell, ``$ `` prompts in console blocks, commands cut where bash
would cut them (:mod:`pfdrill.runbook.lexer`), section paths, directives.

Real runbooks are written by hand and pasted between tools, so the parser is
lenient where a reader would be (fences in list items, ``~~~`` and longer
fences, setext headings, CRLF line ends) and strict where running the wrong
thing would be worse than stopping: an unterminated fence (which would run
everything after it), heredoc, quote or ``if`` is an error with file, line
and text, as is a binary file or a runbook without a single shell block.

Bytes are kept faithfully. UTF-8 (with or without BOM) is decoded as is —
mojibake such as ``ğŸš¨`` is valid UTF-8 and stays exactly those bytes;
UTF-16 with a BOM is decoded; anything else is read as cp1252 (or latin-1
for bytes cp1252 leaves undefined), and the executor re-encodes commands
with the same codec so bash sees the original bytes.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from pfdrill.errors import InvalidInput
from pfdrill.model.runbook import (
    SECTION_SEPARATOR,
    CodeBlock,
    Command,
    Directive,
    NotRunBlock,
    Runbook,
    Section,
)
from pfdrill.runbook import lexer, markdown

SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "zsh", "ksh", "console", "shell-session",
                             "shellsession", "terminal", "shell-script", "bash-session"})
PROMPT_LANGUAGES = frozenset({"console", "shell-session", "shellsession", "terminal",
                              "bash-session"})
# Words that start a shell command often enough to recognise an untagged block as shell.
_SHELL_WORDS = frozenset({
    "kubectl", "pfctl", "curl", "git", "grep", "cat", "echo", "if", "for", "while", "until",
    "export", "cd", "mkdir", "sha256sum", "helm", "ls", "tail", "jq", "sed", "awk", "date",
    "sleep", "test", "[", "[[", "printf", "rm", "cp", "mv", "touch", "kill", "pkill", "bash",
    "sh", "make", "pfdrill", "wget", "tar", "chmod", "set", "source", ".", "kind", "kwokctl",
    "promtool", "amtool", "sudo", "systemctl", "journalctl", "docker", "python", "python3",
})
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[A-Za-z][.)])[ \t]+")
_MARKUP = re.compile(r"(\*\*|__|`)")


# --- decoding ----------------------------------------------------------------------------
def decode(data: bytes, source: str | Path) -> tuple[str, str, tuple[str, ...]]:
    """(text, encoding, notes); InvalidInput for binary files."""
    notes: list[str] = []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"not a text file: broken UTF-16 ({exc.reason})", file=source) from None
        return _normalise(text, notes), "utf-16", tuple([*notes, "decoded as UTF-16 (BOM)"])
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InvalidInput("binary file, not a Markdown runbook (contains NUL bytes)",
                           file=source, line=line)
    controls = sum(1 for b in data[:4096] if b < 32 and b not in (9, 10, 12, 13, 27))
    if controls > max(8, len(data[:4096]) // 50):
        raise InvalidInput("binary file, not a Markdown runbook (control bytes)", file=source)
    if data.startswith(codecs.BOM_UTF8):
        return _normalise(data[3:].decode("utf-8", "strict"), notes), "utf-8-sig", tuple(notes)
    try:
        return _normalise(data.decode("utf-8"), notes), "utf-8", tuple(notes)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        notes.append(f"not UTF-8 (first bad byte on line {line}): read as cp1252")
    try:
        return _normalise(data.decode("cp1252"), notes), "cp1252", tuple(notes)
    except UnicodeDecodeError:
        notes[-1] = notes[-1].replace("cp1252", "latin-1")
        return _normalise(data.decode("latin-1"), notes), "latin-1", tuple(notes)


def _normalise(text: str, notes: list[str]) -> str:
    if "\r\n" in text:
        notes.append("CRLF line ends read as LF")
        text = text.replace("\r\n", "\n")
    if "\r" in text:  # CommonMark renders a lone CR as a line end: so do line numbers
        notes.append("CR line ends read as LF")
        text = text.replace("\r", "\n")
    return text


# --- Markdown structure ------------------------------------------------------------------
def _clean_heading(title: str) -> str:
    title = re.sub(r"[ \t]+#+[ \t]*$", "", title).strip()
    title = _MARKUP.sub("", title)
    return _NUMBERING.sub("", title).strip() or title


def _language(info: str) -> str:
    word = info.split()[0] if info.split() else ""
    return word.strip("{}").lstrip(".").lower()


def _looks_like_shell(lines: Sequence[str]) -> bool:
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line[2:] if line.startswith("$ ") else line
        first = line.split()[0]
        if first.startswith("./") or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", first):
            return True
        return first in _SHELL_WORDS
    return False


# --- commands ------------------------------------------------------------------------------
def _split(fence: markdown.Fence, language: str, section: str, source: str) -> tuple[Command, ...]:
    prompt = language in PROMPT_LANGUAGES or (
        not language and any(t.lstrip().startswith("$ ") for _, t in fence.body))
    commands: list[Command] = []
    described: list[str] = []
    current: list[tuple[int, str]] = []
    scanner = lexer.Scanner()
    for no, text in fence.body:
        if not current:
            stripped = text.strip()
            if prompt:
                if not stripped.startswith("$ "):
                    described = []  # program output between prompts
                    continue
                text = text[text.index("$ ") + 2:]
                stripped = text.strip()
            if not stripped:
                described = []
                continue
            if stripped.startswith("#"):
                described.append(stripped.lstrip("#").strip())
                continue
            scanner = lexer.Scanner()
        current.append((no, text))
        try:
            scanner.feed(text, len(current) - 1)
        except lexer.ShellSyntax as exc:
            at_no, at_text = current[exc.offset]
            raise InvalidInput(f"shell syntax: {exc}", file=source, line=at_no, text=at_text) from None
        if scanner.complete():
            commands.append(Command(
                section=section, line=current[0][0], end_line=current[-1][0],
                text="\n".join(t for _, t in current).rstrip(),
                description=" ".join(d for d in described if d), language=language,
            ))
            current = []
    if current:
        problem = scanner.problem() or ("command is not complete", 0)
        at_no, at_text = current[problem[1]]
        raise InvalidInput(f"{problem[0]} (code block ends at line {fence.body[-1][0] + 1})",
                           file=source, line=at_no, text=at_text)
    return tuple(commands)


# --- public ----------------------------------------------------------------------------------
def _is_shell(language: str, body: Sequence[str]) -> bool:
    return language in SHELL_LANGUAGES or (not language and _looks_like_shell(body))


def parse_bytes(data: bytes, source: str | Path, *, require_shell: bool = True) -> Runbook:
    """Parse a runbook given as bytes; ``source`` names it in errors."""
    src = str(source)
    text, encoding, notes = decode(data, src)
    if "\x00" in text:  # UTF-16 decodes NULs that the byte check could not see
        raise InvalidInput("binary file, not a Markdown runbook (contains NUL characters)",
                           file=src, line=text[: text.index("\x00")].count("\n") + 1)
    lines = text.split("\n")
    items = markdown.items(text)
    for item in items:
        if isinstance(item, markdown.Unclosed):
            more = len(text.rstrip("\n").split("\n")) > item.end_line
            hint = (f" (its list item ends at line {item.end_line}: a closing fence is indented"
                    " like the opening one)") if more else ""
            raise InvalidInput(f"code fence {item.markup} opened here is never closed{hint}",
                               file=src, line=item.line, text=lines[item.line - 1])
        if isinstance(item, markdown.OpenComment):
            notes = (*notes, f"line {item.line}: HTML comment never closed: nothing after it "
                             "in its block renders, nor runs")

    headings = [i for i in items if isinstance(i, markdown.Heading)]
    title = ""
    # A single leading H1 is the document's title, not a level every path repeats.
    if headings and headings[0].level == 1 and sum(1 for h in headings if h.level == 1) == 1:
        title = _clean_heading(headings[0].title)
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    cur_path: tuple[str, ...] = ()
    cur_heading = markdown.Heading(0, "", 1)
    blocks: list[CodeBlock] = []
    directives: list[Directive] = []
    not_run: list[NotRunBlock] = []

    def close() -> None:
        if blocks or cur_path or directives or not_run:
            sections.append(Section(path=cur_path, title=cur_heading.title.strip(),
                                    level=cur_heading.level, line=cur_heading.line,
                                    blocks=tuple(blocks), directives=tuple(directives),
                                    not_run=tuple(not_run)))

    for item in items:
        name = SECTION_SEPARATOR.join(cur_path) or "(preamble)"
        if isinstance(item, markdown.Heading):
            if title and item.level == 1 and not stack and not sections and not blocks:
                cur_heading = item
                continue
            close()
            blocks, directives, not_run = [], [], []
            while stack and stack[-1][0] >= item.level:
                stack.pop()
            stack.append((item.level, _clean_heading(item.title)))
            cur_path = tuple(part for _, part in stack)
            cur_heading = item
        elif isinstance(item, Directive):
            directives.append(item)
        elif isinstance(item, markdown.Hidden):
            language = _language(item.info)
            if _is_shell(language, item.body):
                first = next((t.strip() for t in item.body if t.strip()), "")
                not_run.append(NotRunBlock(section=name, line=item.line, end_line=item.end_line,
                                           language=language, why=item.why, first_line=first))
        elif isinstance(item, markdown.Fence):
            language = _language(item.info)
            shell = _is_shell(language, [t for _, t in item.body])
            cmds = _split(item, language, name, src) if shell else ()
            blocks.append(CodeBlock(line=item.line, end_line=item.end_line, language=language,
                                    shell=shell, commands=cmds))
    close()
    book = Runbook(source=src, encoding=encoding, sha256=hashlib.sha256(data).hexdigest(),
                   title=title,
                   sections=tuple(s for s in sections if s.path or s.blocks or s.not_run),
                   notes=notes)
    if require_shell and not book.commands:
        raise InvalidInput("no bash code blocks with commands: nothing to run", file=src)
    return book


def parse_file(path: str | Path, *, require_shell: bool = True) -> Runbook:
    p = Path(path)
    if p.is_dir():
        raise InvalidInput("is a directory, not a Markdown runbook", file=p)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InvalidInput("runbook file does not exist", file=p) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read the runbook: {exc.strerror}", file=p) from None
    return parse_bytes(data, p, require_shell=require_shell)


def encode_command(book: Runbook, text: str) -> bytes:
    """A command's bytes as they were in the file (same codec it was decoded with)."""
    # UTF-16 is no encoding for a shell script: such runbooks run as UTF-8.
    codec = "utf-8" if book.encoding in ("utf-8-sig", "utf-16") else book.encoding
    return text.encode(codec)
