"""Choosing the sections of a runbook to run, by the names people type.

``--section "Immediate Mitigation"``, ``--section "incident response actions /
immediate mitigation"`` and ``--section "1. Immediate Mitigation"`` all name
the same section: matching ignores case, numbering and extra spaces, and a
name may be the full heading path or any tail of it. A section brings its
subsections along ("Recovery Procedures" runs all three recovery steps).
"""

from __future__ import annotations

import re

from pfdrill.errors import InvalidInput
from pfdrill.model.runbook import SECTION_SEPARATOR, Runbook, Section

_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[A-Za-z][.)])\s+")


def _norm(part: str) -> str:
    part = _NUMBERING.sub("", part.strip())
    return re.sub(r"\s+", " ", part).casefold()


def path_key(path: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A heading path as matching sees it: no case, numbering or extra spaces."""
    return tuple(_norm(p) for p in path)


def _parts(name: str) -> tuple[str, ...]:
    return tuple(_norm(p) for p in re.split(r"\s*/\s*|\s*>\s*", name) if p.strip())


def select(book: Runbook, names: list[str] | tuple[str, ...]) -> tuple[Section, ...]:
    """The sections named (each with its subsections), in document order, without repeats.

    No names: every section. An unknown or ambiguous name is InvalidInput
    listing the sections that do exist.
    """
    if not names:
        return book.sections
    chosen: set[int] = set()
    for name in names:
        want = _parts(name)
        if not want:
            raise InvalidInput("empty section name", file=book.source)
        paths = [path_key(s.path) for s in book.sections]
        hits = [i for i, p in enumerate(paths) if p[-len(want):] == want]
        if not hits:
            known = "; ".join(s.name for s in book.sections if s.commands or s.level <= 2)
            raise InvalidInput(f"no section named {name!r}; sections are: {known}",
                               file=book.source)
        tops = {paths[i] for i in hits}
        if len(tops) > 1:
            which = "; ".join(book.sections[i].name for i in hits)
            raise InvalidInput(f"section name {name!r} is ambiguous: {which}", file=book.source)
        prefix = paths[hits[0]]
        for i, p in enumerate(paths):
            if p[: len(prefix)] == prefix:
                chosen.add(i)
    return tuple(s for i, s in enumerate(book.sections) if i in chosen)


def describe(sections: tuple[Section, ...]) -> str:
    return SECTION_SEPARATOR.join(s.name for s in sections)
