"""Which drills a change touches, and why. Pure: parsed suites and runbooks in, reasons out.

A drill is selected when
- a runbook section it runs (``runbook.respond``, ``recover``, ``follow_up``,
  each with its subsections) changed in what runs;
- its entry in the drill file changed, or it is new;
- the feature it names (``scenario: features/x.feature:...``) changed;
- the code of its fault, or of a check kind it uses, changed
  (:mod:`pfdrill.gate.sources`).

A section a drill runs that existed at the base and is gone at the head is a
regression (:attr:`~pfdrill.model.gate.FindingKind.SECTION_MISSING`): the drill
cannot run at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.model.drill import CheckKind, DrillSpec, SuiteSpec
from pfdrill.model.gate import Finding, FindingKind, RunbookDiff, Selected
from pfdrill.model.runbook import Runbook, Section
from pfdrill.runbook import selection


@dataclasses.dataclass(frozen=True)
class Book:
    """A runbook as the gate sees it: the head and base parses and how they differ."""

    head: Runbook
    base: Runbook | None
    diff: RunbookDiff
    file: str  # repo-relative path of the head runbook, for findings


@dataclasses.dataclass(frozen=True)
class Suite:
    """A drill file at the head and at the base (None: new file)."""

    file: str  # repo-relative
    head: SuiteSpec
    base: SuiteSpec | None


@dataclasses.dataclass(frozen=True)
class Touched:
    selected: tuple[Selected, ...]
    findings: tuple[Finding, ...]  # sections drills run that are gone


@dataclasses.dataclass(frozen=True)
class Changes:
    """What changed, beyond the runbooks."""

    files: frozenset[str]  # repo-relative
    faults: Mapping[str, tuple[str, ...]]  # fault name -> changed files of its code
    checks: Mapping[CheckKind, str]  # check kind -> the changed file that holds it


def sections_run(spec: DrillSpec) -> tuple[str, ...]:
    plan = spec.runbook
    return (*plan.respond, *plan.recover, *plan.follow_up) if plan else ()


def _resolve(book: Runbook | None, name: str) -> tuple[Section, ...] | None:
    if book is None:
        return None
    try:
        return selection.select(book, [name])
    except InvalidInput:
        return None


def missing_sections(spec: DrillSpec, book: Book | None) -> tuple[str, ...]:
    """The sections ``spec`` runs that its runbook's head does not have."""
    if book is None:
        return ()
    return tuple(n for n in sections_run(spec) if _resolve(book.head, n) is None)


def entry(spec: DrillSpec, root: Path) -> dict[str, Any]:
    """A drill entry as it matters: where it sits in its file does not, nor where the
    revision was checked out."""
    data = spec.to_dict()
    data.pop("source", None)
    if spec.runbook is not None:
        data["runbook"]["path"] = _relative(spec.runbook.path, root)
    return data


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return path


def _feature(spec: DrillSpec) -> str:
    return spec.scenario.split(":", 1)[0].strip()


def _changed_fields(head: dict[str, Any], base: dict[str, Any]) -> list[str]:
    return [k for k in head if head.get(k) != base.get(k)]


def drill(spec: DrillSpec, base: DrillSpec | None, book: Book | None, changes: Changes, *,
          suite_file: str, head_root: Path, base_root: Path) -> tuple[list[str], list[Finding]]:
    """Why ``spec`` is touched (empty: it is not), and the sections it runs that are gone."""
    reasons: list[str] = []
    findings: list[Finding] = []
    if book is not None:
        by_name = {s.name: s for s in book.diff.sections}
        for name in sections_run(spec):
            found = _resolve(book.head, name)
            if found is None:
                at_base = _resolve(book.base, name) is not None
                findings.append(Finding(
                    kind=FindingKind.SECTION_MISSING, standing=not at_base, file=suite_file,
                    line=spec.source.line if spec.source else None, section=name,
                    subject=f"drill {spec.name!r} runs {name!r}",
                    detail=f"no such section in {book.file} any more" if at_base else
                    f"no such section in {book.file} at the base either",
                    base_detail="the section exists" if at_base else ""))
                continue
            for s in found:
                change = by_name.get(s.name)
                if change is not None and change.changed:
                    reasons.append(f"runs a changed section: {change.describe()}")
    if base is None:
        reasons.append("new drill")
    else:
        fields = _changed_fields(entry(spec, head_root), entry(base, base_root))
        if fields:
            reasons.append(f"drill entry changed ({', '.join(fields)})")
    feature = _feature(spec)
    if feature and feature in changes.files:
        reasons.append(f"its feature changed: {feature}")
    for path in changes.faults.get(spec.fault.name, ()):
        reasons.append(f"code of its fault {spec.fault.name} changed: {path}")
    used = {c.kind for c in (*spec.mitigation, *spec.recovery)}
    for kind in sorted(used, key=lambda k: k.value):
        if kind in changes.checks:
            reasons.append(f"code of its {kind.value} check changed: {changes.checks[kind]}")
    return list(dict.fromkeys(reasons)), findings


def select(suites: tuple[Suite, ...], books: Mapping[str, Book], changes: Changes, *,
           head_root: Path, base_root: Path) -> Touched:
    """Every drill of ``suites`` the change touches. ``books``: by the head runbook's resolved
    path, the runbooks the drills run."""
    selected: list[Selected] = []
    findings: list[Finding] = []
    for suite in suites:
        base_by_name = {d.name: d for d in suite.base.drills} if suite.base else {}
        for spec in suite.head.drills:
            path = str(Path(spec.runbook.path).resolve()) if spec.runbook else ""
            reasons, gone = drill(spec, base_by_name.get(spec.name), books.get(path), changes,
                                  suite_file=suite.file, head_root=head_root,
                                  base_root=base_root)
            findings.extend(gone)
            if reasons and not gone:
                selected.append(Selected(suite=suite.head.name, file=suite.file, drill=spec.name,
                                         reasons=tuple(reasons),
                                         line=spec.source.line if spec.source else None))
    return Touched(tuple(selected), tuple(findings))
