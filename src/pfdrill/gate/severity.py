"""The severities a runbook branches on, read from its own text. Pure.

A runbook that says ``if [ "$SEVERITY" = "SEV-2" ]`` has a SEV-2 path that a
check run only with SEV-1 never takes, so the gate runs the runbook once per
severity found here: in ``[``/``[[``/``test`` comparisons with ``$SEVERITY``,
in ``case "$SEVERITY" in SEV-1) ...`` patterns, and in the ``when SEVERITY ==
SEV-n`` clauses of ``pfdrill: expect`` directives.
"""

from __future__ import annotations

import re

from pfdrill.model.runbook import Runbook
from pfdrill.runbook import lexer

VARIABLE = "SEVERITY"
DEFAULT = "SEV-1"  # a runbook that never branches runs once, as the drills' worst case

_VAR = re.compile(r"^\$\{?SEVERITY\}?$")
_LEVEL = re.compile(r"^SEV-?\d+$", re.IGNORECASE)
_CASE = re.compile(r"\bcase\s+\"?\$\{?SEVERITY\}?\"?\s+in\b(?P<body>.*?)\besac\b", re.DOTALL)
_PATTERN = re.compile(r"(?:^|[\s;(|])\"?(?P<level>SEV-?\d+)\"?(?=[|)])", re.IGNORECASE)
_WHEN = re.compile(r"\bwhen\s+SEVERITY\s*(?:==|!=)\s*(?P<level>\S+)")


def _canonical(level: str) -> str:
    digits = re.sub(r"\D", "", level)
    return f"SEV-{digits}"


def _tests(text: str) -> set[str]:
    try:
        found = lexer.simple_commands(text)
    except lexer.ShellSyntax:
        return set()
    out: set[str] = set()
    for cmd in found:
        if cmd.name not in ("[", "[[", "test") or not any(_VAR.match(w) for w in cmd.args):
            continue
        out.update(_canonical(w) for w in cmd.args if _LEVEL.match(w))
    return out


def _order(level: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", level)
    return (int(digits) if digits else 0, level)


def branches(book: Runbook) -> tuple[str, ...]:
    """Every severity the runbook's commands or expectations single out, SEV-1 first."""
    found: set[str] = set()
    for command in book.commands:
        found |= _tests(command.text)
        for case in _CASE.finditer(command.text):
            found.update(_canonical(m.group("level"))
                         for m in _PATTERN.finditer(case.group("body")))
    for section in book.sections:
        for d in section.directives:
            m = _WHEN.search(d.text)
            if m and _LEVEL.match(m.group("level")):
                found.add(_canonical(m.group("level")))
    return tuple(sorted(found, key=_order))


def to_run(*books: Runbook | None) -> tuple[str, ...]:
    """The severities to check ``books`` under: every one any of them branches on (base and head
    together, so a branch the change removed is still run at the base), else :data:`DEFAULT`."""
    found: set[str] = set()
    for book in books:
        if book is not None:
            found.update(branches(book))
    return tuple(sorted(found, key=_order)) or (DEFAULT,)
