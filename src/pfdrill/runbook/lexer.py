"""Just enough of bash's grammar to know where a command ends and what it runs.

A runbook's code block is cut into commands the way an interactive shell
would read it: a command goes on while a quote, ``$(...)``, ``${...}``, an
``if``/``for``/``while``/``case``/``{``/``(`` is open, while a line ends in a
backslash or in ``|``/``&&``/``||``, and while a heredoc's body has not
reached its delimiter. :class:`Scanner` is fed one line at a time and says
whether the command is complete, and if not, what is still open and where
(for parse errors). :func:`simple_commands` turns a command's text into the
simple commands it runs (words after quote removal, redirections), which is
what intent classification looks at. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import enum
import re

RESERVED_OPENERS = {"if": "fi", "for": "done", "while": "done", "until": "done",
                    "select": "done", "case": "esac", "{": "}", "(": ")"}
_CLOSERS = {"fi": ("if",), "done": ("for", "while", "until", "select"), "esac": ("case",),
            "}": ("{",)}
_KEEP_CMD_POS = {"then", "else", "elif", "do", "!", "time", "if", "while", "until", "{"}
_OPERATORS = sorted(
    (";;&", ";;", ";&", "&&", "||", "|&", "&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", ">&",
     ">>", ">|", ";", "&", "|", "<", ">", "(", ")"),
    key=len, reverse=True,
)
REDIRECTS = frozenset({"<", ">", ">>", ">|", "<>", "&>", "&>>", "<&", ">&", "<<", "<<-", "<<<"})
CONTINUING_OPS = frozenset({"|", "&&", "||", "|&"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")


class Ctx(enum.Enum):
    CMD = "command"
    SQ = "single quote"
    ANSI = "$'...' quote"
    DQ = "double quote"
    BT = "backquote"
    SUBST = "$( ... )"
    PARAM = "${ ... }"
    ARITH = "$(( ... ))"


class TokenKind(enum.Enum):
    WORD = "word"
    OP = "op"
    NEWLINE = "newline"
    RESERVED = "reserved"


@dataclasses.dataclass(frozen=True)
class Token:
    kind: TokenKind
    value: str
    quoted: bool = False


@dataclasses.dataclass(frozen=True)
class SimpleCommand:
    """One simple command: its words (quotes removed, expansions as written) and redirections."""

    words: tuple[str, ...]
    redirects: tuple[tuple[str, str], ...] = ()  # (operator, target); heredocs: ("<<", "EOF")

    @property
    def name(self) -> str:
        """The command word after leading assignments ('' for a bare assignment)."""
        for w in self.words:
            if not _ASSIGNMENT.match(w):
                return w
        return ""

    @property
    def args(self) -> tuple[str, ...]:
        words = list(self.words)
        while words and _ASSIGNMENT.match(words[0]):
            words.pop(0)
        return tuple(words[1:])

    @property
    def has_heredoc(self) -> bool:
        return any(op in ("<<", "<<-") for op, _ in self.redirects)

    def writes_to(self) -> tuple[str, ...]:
        return tuple(t for op, t in self.redirects if op in (">", ">>", ">|", "&>", "&>>"))


class ShellSyntax(ValueError):
    """Bash would refuse this; ``offset`` is the line (0-based, within what was fed) to blame."""

    def __init__(self, message: str, offset: int) -> None:
        self.offset = offset
        super().__init__(message)


@dataclasses.dataclass
class _Frame:
    ctx: Ctx
    line: int
    depth: int = 0  # plain parentheses inside $( ) and $(( ))


class Scanner:
    """Feed lines of one command; ask :meth:`complete` after each."""

    def __init__(self) -> None:
        self.stack: list[_Frame] = [_Frame(Ctx.CMD, 0)]
        self.tokens: list[Token] = []
        self.keywords: list[tuple[str, int]] = []
        self.pending: list[tuple[str, bool, int]] = []  # heredocs waiting for their body
        self.heredoc: tuple[str, bool, int] | None = None  # the body being read
        self.continued = False  # the last line ended in a backslash
        self.cmd_pos = True
        self._expect: str | None = None  # "target" after a redirection, "delimiter" after <<
        self._after_function = False
        self._word: list[str] = []
        self._word_started = False
        self._word_quoted = False
        self._line = 0

    # public ---------------------------------------------------------------------
    def feed(self, line: str, offset: int) -> None:
        """Consume one line (without its newline); ``offset`` is its index, for errors."""
        self._line = offset
        if self.heredoc is not None:
            delim, strip_tabs, _ = self.heredoc
            if (line.lstrip("\t") if strip_tabs else line) == delim:
                self.heredoc = self.pending.pop(0) if self.pending else None
            return
        self.continued = False
        self._scan(line)
        if self.continued:
            return
        if self.stack[-1].ctx is Ctx.CMD:
            self._end_word()
            self._emit(Token(TokenKind.NEWLINE, "\n"))
            self.cmd_pos = True
        else:
            self._add("\n")
        if self.pending:
            self.heredoc = self.pending.pop(0)

    def complete(self) -> bool:
        return self.problem() is None

    def problem(self) -> tuple[str, int] | None:
        """What keeps the command open, and the line (offset) where it was opened."""
        if self.heredoc is not None or self.pending:
            delim, _, at = self.heredoc or self.pending[0]
            return f"heredoc <<{delim} is not terminated (no line '{delim}')", at
        if len(self.stack) > 1:
            frame = self.stack[-1]
            return f"unterminated {frame.ctx.value}", frame.line
        if self.keywords:
            word, at = self.keywords[-1]
            return f"'{word}' is never closed with '{RESERVED_OPENERS[word]}'", at
        if self.continued:
            return "line continuation (trailing backslash) with nothing after it", self._line
        last = next((t for t in reversed(self.tokens) if t.kind is not TokenKind.NEWLINE), None)
        if last is not None and last.kind is TokenKind.OP and last.value in CONTINUING_OPS:
            return f"'{last.value}' with no command after it", self._line
        return None

    # scanning ------------------------------------------------------------------
    def _scan(self, line: str) -> None:
        i, n = 0, len(line)
        while i < n:
            frame = self.stack[-1]
            c = line[i]
            nxt = line[i + 1] if i + 1 < n else ""
            ctx = frame.ctx
            if ctx is Ctx.SQ:
                if c == "'":
                    self._close(c)
                else:
                    self._add(c)
                i += 1
            elif ctx is Ctx.ANSI:
                if c == "\\" and nxt:
                    self._add(c + nxt)
                    i += 2
                    continue
                if c == "'":
                    self._close(c)
                else:
                    self._add(c)
                i += 1
            elif ctx is Ctx.DQ:
                i = self._scan_dq(line, i)
            elif ctx is Ctx.BT:
                if c == "\\" and nxt:
                    self._add(c + nxt)
                    i += 2
                    continue
                if c == "`":
                    self.stack.pop()
                self._add(c)
                i += 1
            elif ctx is Ctx.PARAM:
                i = self._scan_param(line, i)
            elif ctx is Ctx.ARITH:
                if c == "(":
                    frame.depth += 1
                elif c == ")":
                    if frame.depth == 0 and nxt == ")":
                        self.stack.pop()
                        self._add("))")
                        i += 2
                        continue
                    frame.depth = max(0, frame.depth - 1)
                self._add(c)
                i += 1
            else:
                i = self._scan_cmd(line, i, frame)
                if i < 0:  # a comment: the rest of the line is not code
                    return

    def _open_expansion(self, line: str, i: int) -> int | None:
        """Open a backquote or ``$(``, ``$((``, ``${`` at ``i``: the new index, or None."""
        if line[i] == "`":
            self.stack.append(_Frame(Ctx.BT, self._line))
            self._add("`")
            return i + 1
        if line[i] != "$":
            return None
        nxt = line[i + 1] if i + 1 < len(line) else ""
        if nxt == "(":
            if line.startswith("$((", i):
                self.stack.append(_Frame(Ctx.ARITH, self._line))
                self._add("$((")
                return i + 3
            self.stack.append(_Frame(Ctx.SUBST, self._line))
            self._add("$(")
            return i + 2
        if nxt == "{":
            self.stack.append(_Frame(Ctx.PARAM, self._line))
            self._add("${")
            return i + 2
        return None

    def _scan_dq(self, line: str, i: int) -> int:
        c = line[i]
        nxt = line[i + 1] if i + 1 < len(line) else ""
        if c == "\\":
            if not nxt:
                self.continued = True
                return i + 1
            self._add(nxt if nxt in '$`"\\' else c + nxt)
            return i + 2
        if c == '"':
            self._close(c)
            return i + 1
        j = self._open_expansion(line, i)
        if j is not None:
            return j
        self._add(c)
        return i + 1

    def _close(self, quote: str) -> None:
        """Leave a quote; inside $( ) or ${ } the quote stays part of the raw text."""
        self.stack.pop()
        if self.stack[-1].ctx is not Ctx.CMD:
            self._add(quote)

    def _scan_param(self, line: str, i: int) -> int:
        c = line[i]
        if c == "}":
            self.stack.pop()
        elif c == "'":
            self.stack.append(_Frame(Ctx.SQ, self._line))
        elif c == '"':
            self.stack.append(_Frame(Ctx.DQ, self._line))
        elif c == "$":
            j = self._open_expansion(line, i)
            if j is not None:
                return j
        self._add(c)
        return i + 1

    def _scan_cmd(self, line: str, i: int, frame: _Frame) -> int:
        c = line[i]
        nxt = line[i + 1] if i + 1 < len(line) else ""
        base = frame.ctx is Ctx.CMD
        if c == "\\":
            if not nxt:
                self.continued = True
                return i + 1
            self._add(nxt if base else c + nxt, quoted=True)
            return i + 2
        if c == "#" and not self._word_started:
            return -1
        if c == "'":
            self.stack.append(_Frame(Ctx.SQ, self._line))
            self._mark_quoted()
            if not base:
                self._add(c)
            return i + 1
        if c == '"':
            self.stack.append(_Frame(Ctx.DQ, self._line))
            self._mark_quoted()
            if not base:
                self._add(c)
            return i + 1
        if c == "$" and nxt == "'":
            self.stack.append(_Frame(Ctx.ANSI, self._line))
            self._mark_quoted()
            return i + 2
        j = self._open_expansion(line, i)
        if j is not None:
            return j
        if not base:  # inside $( ... ): only parentheses matter for where it ends
            if c == "(":
                frame.depth += 1
            elif c == ")":
                if frame.depth == 0:
                    self.stack.pop()
                    self._add(c)
                    return i + 1
                frame.depth -= 1
            elif c == "#" and (i == 0 or line[i - 1] in " \t"):
                return -1
            self._add(c)
            return i + 1
        if c in " \t":
            self._end_word()
            return i + 1
        if c in ";&|<>()":
            return self._operator(line, i)
        self._add(c)
        return i + 1

    def _operator(self, line: str, i: int) -> int:
        op = next(o for o in _OPERATORS if line.startswith(o, i))
        fd = ""
        if op[0] in "<>&" and self._word and not self._word_quoted and "".join(self._word).isdigit():
            fd = "".join(self._word)  # 2>&1, 2>/dev/null: the digits belong to the operator
            self._word, self._word_started = [], False
        self._end_word()
        self._emit(Token(TokenKind.OP, fd + op))
        i += len(op)
        if op in ("<<", "<<-"):
            self._read_delimiter(line, i, strip_tabs=op == "<<-")
            self._expect = "delimiter"
        elif op in REDIRECTS:
            self._expect = "target"
        elif op == "(":
            self.keywords.append(("(", self._line))
            self.cmd_pos = True
        elif op == ")":
            if self.keywords and self.keywords[-1][0] == "(":
                self.keywords.pop()
            self.cmd_pos = True  # "f() {" and case patterns: a command or '{' may follow
        else:
            self.cmd_pos = True
        return i

    def _read_delimiter(self, line: str, i: int, strip_tabs: bool) -> None:
        m = re.match(r"[ \t]*((?:'[^']*'|\"[^\"]*\"|\\.|[^\s;&|<>()])+)", line[i:])
        if not m:
            raise ShellSyntax("heredoc '<<' without a delimiter word", self._line)
        delim = re.sub(r"""['"\\]""", "", m.group(1))
        self.pending.append((delim, strip_tabs, self._line))

    # words ----------------------------------------------------------------------
    def _add(self, text: str, quoted: bool = False) -> None:
        self._word.append(text)
        self._word_started = True
        if quoted or len(self.stack) > 1:
            self._word_quoted = True

    def _mark_quoted(self) -> None:
        self._word_started = True
        self._word_quoted = True

    def _emit(self, token: Token) -> None:
        self.tokens.append(token)

    def _end_word(self) -> None:
        if not self._word_started:
            return
        value, quoted = "".join(self._word), self._word_quoted
        self._word, self._word_started, self._word_quoted = [], False, False
        if self._expect is not None:
            self._expect = None
            self._emit(Token(TokenKind.WORD, value, quoted=True))  # a target, never a keyword
            return
        if self.cmd_pos and not quoted and self._reserved(value):
            return
        self._emit(Token(TokenKind.WORD, value, quoted))
        if self._after_function:
            self._after_function = False
            self.cmd_pos = True
        elif not (self.cmd_pos and _ASSIGNMENT.match(value)):
            self.cmd_pos = False

    def _reserved(self, word: str) -> bool:
        if word in RESERVED_OPENERS and word != "(":
            self.keywords.append((word, self._line))
        elif word in _CLOSERS:
            openers = _CLOSERS[word]
            if not self.keywords or self.keywords[-1][0] not in openers:
                raise ShellSyntax(f"unexpected '{word}'", self._line)
            self.keywords.pop()
        elif word == "function":
            self._after_function = True
        elif word not in _KEEP_CMD_POS:
            return False
        self._emit(Token(TokenKind.RESERVED, word))
        self.cmd_pos = word in _KEEP_CMD_POS
        return True


def simple_commands(text: str) -> tuple[SimpleCommand, ...]:
    """The simple commands ``text`` runs (outside command substitutions), in order."""
    scanner = Scanner()
    for offset, line in enumerate(text.split("\n")):
        scanner.feed(line, offset)
    out: list[SimpleCommand] = []
    words: list[str] = []
    redirects: list[tuple[str, str]] = []
    pending_op: str | None = None
    skip_header = False  # the words of 'for x in ...' / 'case x in' are not a command

    def flush() -> None:
        if words or redirects:
            out.append(SimpleCommand(tuple(words), tuple(redirects)))
        words.clear()
        redirects.clear()

    for tok in scanner.tokens:
        if pending_op is not None and tok.kind is TokenKind.WORD:
            redirects.append((pending_op.lstrip("0123456789"), tok.value))
            pending_op = None
            continue
        if tok.kind is TokenKind.WORD:
            if not skip_header:
                words.append(tok.value)
        elif tok.kind is TokenKind.OP and tok.value.lstrip("0123456789") in REDIRECTS:
            pending_op = tok.value
        else:
            flush()
            if tok.kind is TokenKind.RESERVED:
                skip_header = tok.value in ("for", "select", "case")
            elif tok.kind in (TokenKind.NEWLINE, TokenKind.OP) and skip_header and tok.value != ")":
                skip_header = False
    flush()
    return tuple(out)
