"""YAML loading that remembers line numbers, so errors can point at file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pfdrill.errors import InvalidInput


class LineDict(dict[str, Any]):
    """A mapping from YAML that knows where it and each of its keys start (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def loads(text: str, file: str | Path) -> Any:
    """Parse YAML text; a syntax error becomes :class:`InvalidInput` with file and line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        lines = text.splitlines()
        snippet = lines[line - 1] if line is not None and 0 < line <= len(lines) else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise InvalidInput(f"not valid YAML: {problem}", file=file, line=line, text=snippet) from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"not valid YAML: {exc}", file=file) from exc


def load(path: Path) -> Any:
    if not path.is_file():
        raise InvalidInput("file does not exist", file=path)
    return loads(path.read_text(encoding="utf-8"), path)
