"""How a runbook changed between two revisions, in terms of what runs. Pure.

Line numbers are useless for this — one paragraph added at the top moves
every command — so sections are matched by heading path (as section names
are matched everywhere: case, numbering and spacing ignored) and the
commands of a matched section by their normalised text, in order
(:class:`difflib.SequenceMatcher`): equal runs pair up as SAME, a replaced
run pairs commands that still look alike as EDITED, the rest are REMOVED or
ADDED. A removed command whose text is added in another section MOVED.
Prose does not run, so a prose-only edit leaves a section SAME.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterator

from pfdrill.model.gate import Change, CommandChange, RunbookDiff, SectionChange
from pfdrill.model.runbook import Command, NotRunBlock, Runbook, Section
from pfdrill.runbook import selection

# Below this similarity two commands at the same place are a removal and an addition.
EDIT_SIMILARITY = 0.6

_CONTINUATION = re.compile(r"\\\n")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """A command's text without comment lines, line continuations or spacing differences."""
    text = _CONTINUATION.sub(" ", text)
    lines = (ln.strip() for ln in text.split("\n"))
    return _SPACE.sub(" ", " ".join(ln for ln in lines if ln and not ln.startswith("#"))).strip()


def _expectations(section: Section) -> Counter[str]:
    return Counter(_SPACE.sub(" ", d.text.strip()) for d in section.directives)


def _keys(book: Runbook) -> dict[tuple[tuple[str, ...], int], Section]:
    """Sections by (heading path key, occurrence): two sections may share a heading path."""
    seen: Counter[tuple[str, ...]] = Counter()
    out: dict[tuple[tuple[str, ...], int], Section] = {}
    for s in book.sections:
        key = selection.path_key(s.path)
        out[(key, seen[key])] = s
        seen[key] += 1
    return out


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _pair_replaced(base: list[Command], head: list[Command]) -> Iterator[CommandChange]:
    """Within a replaced run, pair commands in order while they still look alike."""
    j = 0
    for b in base:
        best = None
        for k in range(j, len(head)):
            if _similar(normalize(b.text), normalize(head[k].text)) >= EDIT_SIMILARITY:
                best = k
                break
        if best is None:
            yield CommandChange(Change.REMOVED, base=b)
            continue
        for h in head[j:best]:
            yield CommandChange(Change.ADDED, head=h)
        yield CommandChange(Change.EDITED, base=b, head=head[best])
        j = best + 1
    for h in head[j:]:
        yield CommandChange(Change.ADDED, head=h)


def commands(base: tuple[Command, ...], head: tuple[Command, ...]) -> tuple[CommandChange, ...]:
    """The commands of one matched section, paired."""
    a = [normalize(c.text) for c in base]
    b = [normalize(c.text) for c in head]
    out: list[CommandChange] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(CommandChange(Change.SAME, base=base[i], head=head[j])
                       for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
        elif op == "delete":
            out.extend(CommandChange(Change.REMOVED, base=c) for c in base[i1:i2])
        elif op == "insert":
            out.extend(CommandChange(Change.ADDED, head=c) for c in head[j1:j2])
        else:
            out.extend(_pair_replaced(list(base[i1:i2]), list(head[j1:j2])))
    return tuple(out)


def _section(name: str, base: Section | None, head: Section | None,
             pairs: tuple[CommandChange, ...]) -> SectionChange:
    if base is None or head is None:
        change = Change.ADDED if base is None else Change.REMOVED
        return SectionChange(name=name, change=change,
                             base_line=base.line if base else None,
                             head_line=head.line if head else None, commands=pairs)
    before, after = _expectations(base), _expectations(head)
    added = tuple((after - before).elements())
    removed = tuple((before - after).elements())
    same = all(p.change is Change.SAME for p in pairs) and not added and not removed
    return SectionChange(name=name, change=Change.SAME if same else Change.EDITED,
                         base_line=base.line, head_line=head.line, commands=pairs,
                         expectations_added=added, expectations_removed=removed)


def _moves(pairs: dict[str, list[CommandChange]]) -> dict[str, list[CommandChange]]:
    """A command removed from one section and added, unchanged, to another has MOVED."""
    added: dict[str, list[tuple[str, int]]] = {}
    for name, changes in pairs.items():
        for i, c in enumerate(changes):
            if c.change is Change.ADDED and c.head is not None:
                added.setdefault(normalize(c.head.text), []).append((name, i))
    gone: set[tuple[str, int]] = set()
    out = {name: list(changes) for name, changes in pairs.items()}
    for name, changes in pairs.items():
        for i, c in enumerate(changes):
            if c.change is not Change.REMOVED or c.base is None:
                continue
            spots = [s for s in added.get(normalize(c.base.text), []) if s[0] != name]
            if not spots:
                continue
            where = spots[0]
            added[normalize(c.base.text)].remove(where)
            moved = out[where[0]][where[1]]
            out[where[0]][where[1]] = CommandChange(Change.MOVED, base=c.base, head=moved.head)
            gone.add((name, i))
    return {name: [c for i, c in enumerate(changes) if (name, i) not in gone]
            for name, changes in out.items()}


def diff(base: Runbook | None, head: Runbook) -> RunbookDiff:
    """How ``head`` differs from ``base`` (None: the runbook is new)."""
    old = _keys(base) if base is not None else {}
    new = _keys(head)
    order: list[tuple[tuple[str, ...], int]] = list(new)
    order += [k for k in old if k not in new]
    pairs: dict[str, list[CommandChange]] = {}
    sides: dict[str, tuple[Section | None, Section | None]] = {}
    for key in order:
        b, h = old.get(key), new.get(key)
        either = h if h is not None else b
        assert either is not None  # every key comes from one side
        name = either.name
        if key[1]:
            name = f"{name} (#{key[1] + 1})"
        sides[name] = (b, h)
        pairs[name] = list(commands(b.commands if b else (), h.commands if h else ()))
    moved = _moves(pairs)
    sections = tuple(_section(name, *sides[name], tuple(moved[name])) for name in sides)
    return RunbookDiff(base=base.source if base else "", head=head.source,
                       base_sha256=base.sha256 if base else "", head_sha256=head.sha256,
                       sections=sections, not_run_added=not_run_added(base, head))


def not_run_added(base: Runbook | None, head: Runbook) -> tuple[NotRunBlock, ...]:
    """Blocks of shell code at the head that do not run and were not at the base."""

    def key(b: NotRunBlock) -> tuple[tuple[str, ...], str, str]:
        return (selection.path_key(b.section.split(" / ")), normalize(b.first_line), b.why.value)

    before = Counter(key(b) for b in base.not_run) if base is not None else Counter()
    out = []
    for b in head.not_run:
        if before[key(b)] > 0:
            before[key(b)] -= 1
        else:
            out.append(b)
    return tuple(out)
