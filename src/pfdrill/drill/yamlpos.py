"""YAML with positions: load a document and answer "which line is ``drills[2].fault.name`` on?".

jsonschema reports where a problem is as a path into the data; users need a
line number. PyYAML's composer keeps every node's start mark, so the file is
composed once and the path walked through the node tree. Duplicate keys,
which PyYAML silently lets the last one win, are reported as errors here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from pfdrill.errors import InvalidInput

PathPart = str | int


class LineIndex:
    """Line numbers (1-based) for paths into one YAML document."""

    def __init__(self, root: yaml.Node | None, lines: list[str]) -> None:
        self._root = root
        self.lines = lines

    def node(self, path: Iterable[PathPart]) -> yaml.Node | None:
        node = self._root
        for part in path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                node = node.value[part] if 0 <= part < len(node.value) else None
            else:
                return node
            if node is None:
                return None
        return node

    def line(self, path: Iterable[PathPart]) -> int | None:
        """The line of the deepest node along ``path`` that exists.

        A mapping entry is placed on its key's line: a block value starts on
        the line after ``key:``, but ``key:`` is what the user looks for.
        """
        parts = list(path)
        while True:
            if parts and isinstance(parts[-1], str):
                parent = self.node(parts[:-1])
                if isinstance(parent, yaml.MappingNode):
                    for k, _ in parent.value:
                        if k.value == parts[-1]:
                            return int(k.start_mark.line) + 1
            else:
                node = self.node(parts)
                if node is not None:
                    return int(node.start_mark.line) + 1
            if not parts:
                return None
            parts.pop()

    def key_line(self, path: Iterable[PathPart], key: str) -> int | None:
        """The line of ``key`` inside the mapping at ``path`` (for unexpected keys)."""
        node = self.node(path)
        if isinstance(node, yaml.MappingNode):
            for k, _ in node.value:
                if k.value == key:
                    return int(k.start_mark.line) + 1
        return self.line(path)

    def text(self, line: int | None) -> str | None:
        if line is None or not 0 < line <= len(self.lines):
            return None
        return self.lines[line - 1]


def _duplicates(node: yaml.Node | None, file: Path, lines: list[str]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for k, v in node.value:
            if k.value in seen:
                line = int(k.start_mark.line) + 1
                raise InvalidInput(f"duplicate key {k.value!r}", file=file, line=line,
                                   text=lines[line - 1] if line <= len(lines) else None)
            seen.add(k.value)
            _duplicates(v, file, lines)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicates(item, file, lines)


def load(path: Path) -> tuple[Any, LineIndex]:
    """Parse ``path``; :class:`InvalidInput` with the line for unreadable or malformed YAML."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput("file does not exist", file=path) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read: {exc.strerror}", file=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"not UTF-8 text (byte {exc.start})", file=path) from None
    lines = text.splitlines()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = int(mark.line) + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"not valid YAML: {problem}", file=path, line=line,
                           text=lines[line - 1] if line and line <= len(lines) else None) from None
    _duplicates(node, path, lines)
    return data, LineIndex(node, lines)
