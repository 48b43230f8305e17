"""YAML with positions, and edits that keep comments: the one YAML loader of pfdrill.

Users need a line number where jsonschema gives a path into the data, and
``pfctl`` edits files people wrote (alert rules, policy-config) that must keep
their comments. ruamel.yaml's round-trip loader does both: its mappings and
sequences are ``dict``/``list`` subclasses that know where each key and item
starts, and what it loads it can write back unchanged.

Two ways to load, one parser:

- :func:`load`/:func:`loads` for reading: scalars become plain ``str``/``int``/
  ``float``/``bool``/``datetime`` (no ruamel subclasses leak into records);
  mappings and sequences keep their positions (:func:`line_of`, :meth:`Document.line`).
- ``edit=True`` for changing and writing back with :func:`dumps`: styles, quotes
  and comments are kept, so only what was changed changes.

YAML 1.2 (the YAML of JSON): ``yes``/``off`` are strings, ``010`` is ten.
Duplicate keys, aliases that expand past :data:`MAX_NODES` ("billion laughs"),
recursive aliases and nesting deeper than :data:`MAX_DEPTH` are refused, so a
parsed document is always a finite tree a validator can walk.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import io
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.compat import ordereddict
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString, ScalarString

from pfdrill.errors import InvalidInput

PathPart = str | int
MAX_NODES = 100_000
MAX_DEPTH = 64
_DUPLICATE = re.compile(r'found duplicate key "(.*?)" with value', re.S)
_STANDARD_TAG = "tag:yaml.org,2002:"
_SPECIAL = re.compile(r"[\[\]{}\"'#]")  # what the nesting pre-check looks at
_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # what the YAML reader counts as a line end


def split_lines(text: str) -> tuple[str, ...]:
    """The file's lines as the YAML parser numbers them (``str.splitlines`` also splits
    on form feeds and other separators YAML reads as ordinary characters)."""
    lines = _BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return tuple(lines)


@dataclasses.dataclass(frozen=True)
class Document:
    """One parsed YAML document: its tree (``root``) and the file's lines."""

    file: str
    lines: tuple[str, ...]
    root: Any
    indent: tuple[int, int, int] = (2, 2, 0)  # mapping, sequence, dash offset (for dumps)

    def node(self, path: Iterable[PathPart]) -> Any:
        """The value at ``path``, or None when the path leaves the tree."""
        node = self.root
        for part in path:
            if isinstance(node, dict):
                key = _key(node, part)
                if key is _MISSING:
                    return None
                node = node[key]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return None
        return node

    def line(self, path: Iterable[PathPart]) -> int | None:
        """The line (1-based) of the deepest entry along ``path`` that exists.

        A mapping entry is placed on its key's line: a block value starts on
        the line after ``key:``, but ``key:`` is what the user looks for.
        """
        parts = list(path)
        while parts:
            parent = self.node(parts[:-1])
            found = line_of(parent, parts[-1]) if _has(parent, parts[-1]) else None
            if found is not None:
                return found
            parts.pop()
        return line_of(self.root)

    def key_line(self, path: Iterable[PathPart], key: str) -> int | None:
        """The line of ``key`` inside the mapping at ``path`` (for unexpected keys)."""
        parts = list(path)
        node = self.node(parts)
        if _has(node, key):
            return line_of(node, key)
        return self.line(parts)

    def text(self, line: int | None) -> str | None:
        if line is None or not 0 < line <= len(self.lines):
            return None
        return self.lines[line - 1]

    def error(self, message: str, path: Sequence[PathPart] = (), *,
              line: int | None = None) -> InvalidInput:
        """InvalidInput at ``path`` (or ``line``): file, line and the line's text.

        Without either the error is about the whole file and names no line.
        """
        where = line if line is not None else (self.line(path) if path else None)
        return InvalidInput(message, file=self.file, line=where, text=self.text(where))


def dotted(path: Iterable[PathPart]) -> str:
    """A path as people write it in messages: ``drills[2].fault.name``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class _Missing:
    pass


_MISSING: Any = _Missing()


def _key(mapping: dict[Any, Any], part: PathPart) -> Any:
    """The key of ``mapping`` a path part names: itself, or a non-string key written so."""
    if part in mapping:
        return part
    for key in mapping:
        if str(key) == str(part):
            return key
    return _MISSING


def _has(node: Any, part: PathPart) -> bool:
    if isinstance(node, dict):
        return _key(node, part) is not _MISSING
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def line_of(node: Any, key: PathPart | None = None) -> int | None:
    """Where a loaded mapping or sequence starts (1-based), or where its ``key``/item does."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is None:
            return int(lc.line) + 1
        if isinstance(node, dict):
            real = _key(node, key)
            if real is _MISSING:
                return int(lc.line) + 1
            return int(lc.key(real)[0]) + 1
        if isinstance(key, int):
            return int(lc.item(key)[0]) + 1
    except (KeyError, IndexError, TypeError):
        pass  # an entry ruamel has no position for (a merged key): the container's line
    return int(lc.line) + 1 if lc.line is not None else None


def _yaml(edit: bool) -> YAML:
    # A fresh instance per call: ruamel's YAML objects are not safe to share between threads.
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    y.preserve_quotes = edit
    y.width = 4096  # never re-wrap a long line (a PromQL expression) on dump
    return y


def error_at(message: str, file: str | Path, text: str, offset: int) -> InvalidInput:
    """InvalidInput at a character offset of ``text`` (a JSON decoder's ``pos``), its line
    counted as everywhere else in pfdrill (as the YAML reader counts them)."""
    line = len(_BREAK.findall(text, 0, max(0, offset))) + 1
    lines = split_lines(text)
    return InvalidInput(message, file=file, line=line,
                        text=lines[line - 1] if line <= len(lines) else None)


def _invalid(exc: BaseException, text: str, file: str, lines: Sequence[str],
             what: str) -> InvalidInput:
    line: int | None = None
    if isinstance(exc, DuplicateKeyError):
        mark = exc.problem_mark
        found = _DUPLICATE.search(str(exc.problem or ""))
        problem = f"duplicate key {found.group(1)!r}" if found else "duplicate key"
    elif isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = str(exc.problem or exc.context or "invalid")
    elif isinstance(exc, ReaderError):
        mark = None
        line = len(_BREAK.findall(text, 0, max(0, int(exc.position)))) + 1
        problem = str(exc.reason)
        if isinstance(exc.character, int):
            problem = f"character U+{exc.character:04X} is not allowed ({problem})"
    elif isinstance(exc, RecursionError):
        mark, problem = None, f"nested too deeply (more than {MAX_DEPTH} levels)"
    else:
        mark, problem = None, str(exc) or type(exc).__name__
    if mark is not None and getattr(mark, "line", None) is not None:
        line = int(mark.line) + 1
    line = line or 1
    snippet = lines[line - 1] if 0 < line <= len(lines) else None
    return InvalidInput(f"not valid {what}: {problem}", file=file, line=line, text=snippet)


def _plain_scalar(value: Any) -> Any:
    if isinstance(value, TaggedScalar) and _tag(value) == _STANDARD_TAG + "str":
        return str(value.value)
    if isinstance(value, ScalarBoolean):
        return bool(value)
    if isinstance(value, ScalarString):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and type(value) is not float:
        return float(value)
    if isinstance(value, int) and type(value) is not int:
        return int(value)
    if isinstance(value, dt.datetime) and type(value) is not dt.datetime:
        return dt.datetime(value.year, value.month, value.day, value.hour, value.minute,
                           value.second, value.microsecond, tzinfo=value.tzinfo)
    return value


def _tag(node: Any) -> str | None:
    tag = getattr(node, "tag", None)
    value = getattr(tag, "value", tag)
    return str(value) if value else None


def _settle(root: Any, doc: Document, what: str, plain: bool) -> None:
    """Check the tree is finite and small; with ``plain``, make scalars builtin types.

    Reading refuses application tags (``!foo``, ``!!python/object``) as a safe loader
    does: nothing pfdrill reads means anything by them.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def bad(problem: str, path: tuple[PathPart, ...]) -> InvalidInput:
        return doc.error(f"not valid {what}: {problem}", line=doc.line(path) or 1)

    def walk(node: Any, depth: int, path: tuple[PathPart, ...]) -> int:
        tag = _tag(node) if plain else None
        if tag is not None and (isinstance(node, TaggedScalar)
                                or not tag.startswith(_STANDARD_TAG)):
            raise bad(f"unsupported tag {tag!r}", path)
        if not isinstance(node, dict | list):
            return 1
        ident = id(node)
        if ident in sizes:
            return sizes[ident]  # an alias to a node already counted: sizes add up, no re-walk
        if ident in on_path:
            raise bad("a recursive alias (a node that contains itself)", path)
        if depth > MAX_DEPTH:
            raise bad(f"nested more than {MAX_DEPTH} levels deep", path)
        on_path.add(ident)
        total = 1
        keys: Iterable[Any] = list(node) if isinstance(node, dict) else range(len(node))
        for key in keys:
            if plain and isinstance(key, tuple | frozenset | dict | list):
                raise bad("a mapping key must be a string or a number, not a collection", path)
            value = node[key]
            if plain:
                settled = _plain_scalar(value)
                if settled is not value:
                    _put(node, key, settled)
                    value = settled
            total += walk(value, depth + 1, (*path, key))
            if total > MAX_NODES:
                raise bad(f"more than {MAX_NODES} values once aliases are expanded", path)
        on_path.discard(ident)
        sizes[ident] = total
        return total

    walk(root, 0, ())


def _put(node: Any, key: Any, value: Any) -> None:
    """Set without ruamel's style keeping: its containers turn a ``str`` assigned over a
    ``|`` block back into a block string, which reading does not want."""
    if isinstance(node, CommentedMap):
        ordereddict.__setitem__(node, key, value)
    elif isinstance(node, list):
        list.__setitem__(node, key, value)
    else:
        node[key] = value


def _guess_indent(lines: Sequence[str]) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes them."""
    mapping, offset = None, None
    parent: int | None = None  # indent of the previous line if it was a bare `key:`
    for raw in lines:
        line = raw.rstrip()
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        here = len(line) - len(stripped)
        if parent is not None and here > parent:
            if stripped.startswith("- ") and offset is None:
                offset = here - parent
            elif not stripped.startswith("-") and mapping is None:
                mapping = here - parent
        parent = here if line.endswith(":") and not stripped.startswith("- ") else None
        if mapping is not None and offset is not None:
            break
    m = mapping or 2
    o = offset if offset is not None else 0
    return m, o + 2, o


def _too_deep(text: str) -> int | None:
    """The line where ``[``/``{`` brackets nest past MAX_DEPTH, found in one pass.

    The YAML scanner's work grows with the square of the flow nesting (800 levels take
    seconds, a few thousand minutes), so deep nesting is refused before it is parsed.
    Quoted strings and comments are skipped; a bracket in a block scalar may be
    counted, which only matters past MAX_DEPTH unclosed ones.
    """
    depth, skip_to = 0, 0
    for found in _SPECIAL.finditer(text):
        i, c = found.start(), found.group()
        if i < skip_to:
            continue
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return len(_BREAK.findall(text, 0, i)) + 1
        elif c in "]}":
            depth = max(0, depth - 1)
        elif c in "\"'":
            close = text.find(c, i + 1)
            while c == '"' and close > 0 and text[close - 1] == "\\":
                close = text.find(c, close + 1)  # an escaped quote (a "\\" before it is rare)
            skip_to = close + 1 if close >= 0 else len(text)
        elif i == 0 or text[i - 1] in " \t\n":  # a comment: to the end of the line
            end = text.find("\n", i)
            skip_to = end if end >= 0 else len(text)
    return None


def _parse(text: str, name: str, lines: tuple[str, ...], what: str, *, edit: bool,
           many: bool) -> list[Any]:
    """The document roots of ``text``, or InvalidInput naming the file and line."""
    deep = _too_deep(text)
    if deep is not None:
        raise InvalidInput(f"not valid {what}: nested more than {MAX_DEPTH} levels deep",
                           file=name, line=deep,
                           text=lines[deep - 1] if deep <= len(lines) else None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ruamel warns on re-used anchors: valid YAML 1.2
            yaml = _yaml(edit)
            return list(yaml.load_all(text)) if many else [yaml.load(text)]
    except (YAMLError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        # ValueError/OverflowError: a scalar that resolves to a timestamp or number it cannot
        # hold (``2024-13-45``); the parser's own errors are YAMLError.
        raise _invalid(exc, text, name, lines, what) from None


def loads(text: str, file: str | Path, *, what: str = "YAML", edit: bool = False) -> Document:
    """Parse one document; ``edit`` keeps styles and comments for :func:`dumps`."""
    lines = split_lines(text)
    name = str(file)
    (root,) = _parse(text, name, lines, what, edit=edit, many=False)
    if not edit:
        root = _plain_scalar(root)
    doc = Document(name, lines, root, _guess_indent(lines) if edit else (2, 2, 0))
    _settle(root, doc, what, plain=not edit)
    return doc


def load(path: str | Path, *, what: str = "YAML", edit: bool = False) -> Document:
    """Read and parse ``path``: a missing, unreadable or non-UTF-8 file is InvalidInput too."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise InvalidInput("file does not exist", file=file) from None
    except IsADirectoryError:
        raise InvalidInput("is a directory, not a file", file=file) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read: {exc.strerror or exc}", file=file) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(f"not UTF-8 text (byte {exc.start})", file=file, line=line) from None
    return loads(text, file, what=what, edit=edit)


def loads_all(text: str, file: str | Path, *, what: str = "YAML") -> list[Document]:
    """Every document of a ``---``-separated stream (for reading)."""
    lines = split_lines(text)
    name = str(file)
    roots = _parse(text, name, lines, what, edit=False, many=True)
    docs = [Document(name, lines, _plain_scalar(root)) for root in roots]
    for doc in docs:
        _settle(doc.root, doc, what, plain=True)
    return docs


def dumps(doc: Document) -> str:
    """The document as text: what was loaded with ``edit=True`` comes back as it was."""
    y = _yaml(True)
    mapping, sequence, offset = doc.indent
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    out = io.StringIO()
    y.dump(doc.root, out)
    return out.getvalue()


def write(doc: Document, path: str | Path | None = None) -> Path:
    """Write :func:`dumps` of ``doc`` to ``path`` (default: where it came from), atomically."""
    target = Path(path or doc.file)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(dumps(doc), encoding="utf-8")
    os.replace(tmp, target)
    return target


def replace_text(container: Any, key: PathPart, new: str) -> None:
    """Set a string value, keeping how it was written (``|``, ``>`` with its folds, quotes)."""
    old = container[key]
    if isinstance(old, FoldedScalarString):
        value = FoldedScalarString(new)
        folds = list(getattr(old, "fold_pos", []))
        if folds:
            # Move each fold with the text around it: a threshold that grows by a digit must
            # not shift the line breaks of a long expression.
            shift = difflib.SequenceMatcher(None, str(old), new, autojunk=False)
            moved = []
            for pos in folds:
                for tag, i1, i2, j1, _j2 in shift.get_opcodes():
                    if i1 <= pos < i2 or (pos == i2 == len(str(old))):
                        at = j1 + (pos - i1) if tag == "equal" else j1
                        if 0 < at < len(new) and new[at] == " ":
                            moved.append(at)
                        break
            value.fold_pos = moved
    elif isinstance(old, LiteralScalarString):
        value = LiteralScalarString(new)
    elif isinstance(old, ScalarString):
        value = type(old)(new)
    else:
        container[key] = new
        return
    container[key] = value


def plain(value: Any) -> Any:
    """A deep copy in builtin types (``dict``, ``list``, scalars), without positions."""
    if isinstance(value, dict):
        return {_plain_scalar(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return _plain_scalar(value)


def new_mapping(items: Iterable[tuple[str, Any]] = ()) -> CommentedMap:
    """A mapping to insert into an edited document."""
    return CommentedMap(items)


def new_sequence(items: Iterable[Any] = (), *, flow: bool = False) -> CommentedSeq:
    """A sequence to insert; ``flow`` writes it on one line (``[a, b]``)."""
    seq = CommentedSeq(items)
    if flow:
        seq.fa.set_flow_style()
    return seq
