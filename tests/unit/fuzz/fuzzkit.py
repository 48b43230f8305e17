"""What every parser's fuzz test shares: input strategies and the one property.

Inputs are the project's own files mutated the way people and tools break
them (a line lost or doubled, indentation off by one, a stray quote or
bracket, a value of the wrong type, a truncated write), plus documents with
the right shape and arbitrary values, plus plain noise. The property: the
parser either succeeds or raises pfdrill's :class:`InvalidInput` naming the
file (and, when it names a line, the right line and its text) in one line.
Anything else — another exception, a hang, a connection — fails the test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from pfdrill.errors import InvalidInput, PfdrillError
from pfdrill.formats import yamldoc

# The hypothesis profile (registered in tests/conftest.py): long under ``make fuzz``.
FUZZ = "pfdrill-fuzz-long" if os.environ.get("PFDRILL_FUZZ") == "long" else "pfdrill-fuzz"

# Tokens that matter to YAML, JSON, Gherkin and pfdrill's own fields.
TOKENS = [":", ": ", "- ", "-", "[", "]", "{", "}", ",", "'", '"', "#", "&a ", "*a", "!!str ",
          "!x ", "<<: *a", "|", ">-", "---", "...", "\t", "  ", "\n", "\\", "~", "null", "true",
          "yes", "0x1F", "1e999", "-1", "0", "NaN", ".inf", "2024-13-45", "SEV-9", "SEV-1",
          "\u00e9", "\u202e", "\x00", "\ufeff", "%", "@", "`", "$(", "${x}", "<p>", "|", "*",
          "Given ", "When ", "Then ", "And ", "Scenario: ", "Examples:", '"""', "| a |"]
noise = st.lists(st.sampled_from(TOKENS) | st.characters(), max_size=12).map("".join)
leaf = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
        | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
        | st.sampled_from(["SEV-1", "SEV-4", "none", "enforce", "drill", "production", "1m",
                           "above", "*", "", " ", "adapter_failure", "fail_open"]))
values = st.recursive(leaf, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


@st.composite
def mutated_text(draw: st.DrawFn, seed: str) -> str:
    """``seed`` with one to four line- or character-level edits."""
    lines = seed.splitlines(keepends=True) or [""]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["drop", "double", "swap", "insert", "replace", "indent",
                                   "truncate", "join"]))
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        if op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "double":
            lines.insert(i, line)
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op in ("insert", "replace"):
            at = draw(st.integers(0, len(line)))
            end = at if op == "insert" else draw(st.integers(at, len(line)))
            lines[i] = line[:at] + draw(noise) + line[end:]
        elif op == "indent":
            delta = draw(st.integers(-3, 3))
            lines[i] = " " * max(0, delta) + line[max(0, -delta):]
        elif op == "truncate":
            text = "".join(lines)
            return text[:draw(st.integers(0, len(text)))]
        elif op == "join" and i + 1 < len(lines):
            lines[i:i + 2] = [line.rstrip("\n") + " " + lines[i + 1]]
    return "".join(lines)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_tree(draw: st.DrawFn, seed: Any) -> Any:
    """``seed`` (parsed data) with values replaced, keys dropped or added at random places."""
    data = json.loads(json.dumps(seed, default=str))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)))
        if not path:
            data = draw(values) if draw(st.integers(0, 9)) == 0 else data
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        op = draw(st.sampled_from(["replace", "drop", "add"]))
        if op == "replace":
            parent[path[-1]] = draw(values)
        elif op == "drop":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(values)
        else:
            parent.insert(path[-1], draw(values))
    return data


def yaml_documents(seed_text: str) -> st.SearchStrategy[str]:
    """Text edits of a YAML seed, shape-keeping value edits of its data, and noise."""
    seed = yaml.safe_load(seed_text)
    dumped = mutated_tree(seed).map(
        lambda d: yaml.safe_dump(d, sort_keys=False, allow_unicode=True))
    return st.one_of(mutated_text(seed_text), mutated_text(seed_text), dumped, noise)


def json_documents(seed_text: str) -> st.SearchStrategy[str]:
    """The same for a JSON seed, written back as JSON."""
    seed = json.loads(seed_text)
    dumped = mutated_tree(seed).map(lambda d: json.dumps(d, indent=2))
    return st.one_of(mutated_text(seed_text), mutated_text(seed_text), dumped, noise)


def alias_bomb(levels: int = 8) -> str:
    """A few lines that expand to 10**levels values ("billion laughs")."""
    rows = ["suite: s", "x0: &x0 [a, a, a, a, a, a, a, a, a, a]"]
    for i in range(1, levels):
        rows.append(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]")
    return "\n".join([*rows, "drills: []"]) + "\n"


DEEP = "a: " + "[" * 2000 + "]" * 2000 + "\n"  # deeper than Python recurses


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    else:
        path.write_bytes(text)
    return path


def parses_or_refuses(call: Callable[[], object], path: Path,
                      error: type[PfdrillError] = InvalidInput,
                      lines: Callable[[str], Sequence[str]] = yamldoc.split_lines,
                      ) -> PfdrillError | None:
    """Run ``call``; None when it succeeds, the error when it refuses as pfdrill should.

    The refusal must be ``error`` (pfdrill's own), name ``path``, fit on one line, and
    point at a line that exists with that line's text (``lines`` splits the file as the
    format counts lines). When the file is not even YAML the error must name a line.
    """
    try:
        call()
    except error as exc:
        check_refusal(exc, path, lines)
        return exc
    return None


def check_refusal(exc: PfdrillError, path: Path,
                  split: Callable[[str], Sequence[str]] = yamldoc.split_lines) -> None:
    assert isinstance(exc, InvalidInput), f"{type(exc).__name__}: {exc}"
    assert exc.file is not None and Path(exc.file).resolve() == path.resolve(), exc.one_line()
    assert "\n" not in exc.one_line(), exc.one_line()
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = split(text)
    if exc.line is not None:
        assert 1 <= exc.line <= len(lines) + 1, exc.one_line()
        if exc.text is not None:  # the line's text, or nothing past the end of the file
            expected = lines[exc.line - 1] if exc.line <= len(lines) else ""
            assert exc.text == expected, exc.one_line()
    if exc.message.startswith(("not valid YAML", "not valid JSON")):
        assert exc.line is not None, exc.one_line()


def is_yaml(text: str) -> bool:
    try:
        yamldoc.loads(text, "<fuzz>")
    except InvalidInput:
        return False
    return True
