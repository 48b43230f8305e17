"""What the gate will judge: the change read from git, runbooks parsed and diffed, drills chosen.

Everything here happens before any cluster is touched, so bad input (a
runbook that does not parse, a broken drill file, an unknown revision) is
exit 2 with file and line and nothing changed. The head is the working tree;
the base's runbooks and drill files are extracted into a temporary directory
with the same layout, so relative paths in drill files resolve the same way.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import tempfile
from pathlib import Path

import yaml

from pfdrill.drill import suitefile, wiring
from pfdrill.errors import InvalidInput
from pfdrill.gate import diff, regression, revision, severity, sources, touched
from pfdrill.model.drill import DrillSpec, SuiteSpec
from pfdrill.model.gate import Finding, Selected
from pfdrill.model.runbook import Runbook
from pfdrill.runbook import parser

DRILL_FILES = ("drills/*.yaml", "drills/*.yml")
RUNBOOK_DIRS = ("runbooks",)


@dataclasses.dataclass(frozen=True)
class Request:
    """What ``pfdrill gate`` was asked (paths relative to ``repo`` unless absolute)."""

    repo: Path = Path(".")
    base: str | None = None  # a revision; None: the merge base with the default branch
    changed: tuple[str, ...] | None = None  # the changed files, if the caller knows them
    runbook: Path | None = None  # the runbook suites use instead of their defaults.runbook
    drill_files: tuple[str, ...] = DRILL_FILES
    only: tuple[str, ...] = ()  # consider only these drills
    strict: bool = False  # standing failures fail the gate too
    fail_fast: bool = False  # no drills once the runbook check found a regression


@dataclasses.dataclass(frozen=True)
class Judged:
    """A runbook the gate runs at base and head."""

    book: touched.Book
    base_path: Path | None  # the base's bytes, extracted (None: new at the head)
    severities: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Plan:
    root: Path
    base: revision.Base
    head_commit: str
    base_root: Path  # the base's runbooks and drill files, extracted
    changed: tuple[str, ...]
    runbooks: tuple[Judged, ...]
    suites: tuple[touched.Suite, ...]
    selected: tuple[Selected, ...]
    findings: tuple[Finding, ...]  # known before anything runs (sections gone, changes removed)
    notes: tuple[str, ...] = ()

    def head_spec(self, chosen: Selected) -> DrillSpec:
        suite = next(s for s in self.suites if s.file == chosen.file)
        return next(d for d in suite.head.drills if d.name == chosen.drill)

    def base_spec(self, chosen: Selected) -> DrillSpec | None:
        suite = next(s for s in self.suites if s.file == chosen.file)
        if suite.base is None:
            return None
        return next((d for d in suite.base.drills if d.name == chosen.drill), None)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _is_suite(path: Path) -> bool:
    """A drill suite has ``suite`` and ``drills``; other YAML in drills/ (schedules) is not one."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return True  # let the suite loader say what is wrong, with its line
    return isinstance(data, dict) and "suite" in data and "drills" in data


def _default_runbook(path: Path) -> str | None:
    """The suite's ``defaults.runbook``, resolved as the suite loader resolves it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw = (data.get("defaults") or {}).get("runbook") if isinstance(data, dict) else None
    if not raw:
        return None
    p = Path(raw)
    return str(p if p.is_absolute() else (path.parent / p).resolve())


def substitute(suite: SuiteSpec, file: Path, runbook: Path | None) -> SuiteSpec:
    """``suite`` with ``runbook`` in place of its ``defaults.runbook`` (drills naming their
    own runbook keep it)."""
    default = _default_runbook(file)
    if runbook is None or default is None:
        return suite
    target = str(runbook.resolve())

    def swap(d: DrillSpec) -> DrillSpec:
        if d.runbook is None or d.runbook.path != default:
            return d
        return dataclasses.replace(d, runbook=dataclasses.replace(d.runbook, path=target))

    return dataclasses.replace(suite, drills=tuple(swap(d) for d in suite.drills))


def _load_suite(path: Path, runbook: Path | None) -> SuiteSpec:
    return substitute(suitefile.load(path), path, runbook)


def _parse_base(data: bytes | None, where: Path) -> tuple[Runbook | None, str]:
    if data is None:
        return None, ""
    try:
        return parser.parse_bytes(data, where), ""
    except InvalidInput as exc:
        return None, f"the base runbook does not parse ({exc.one_line()}): judged without a base"


def make(request: Request, *, workdir: Path | None = None) -> Plan:
    """Read the change and decide what runs; raises InvalidInput for bad input, runs nothing."""
    root = revision.toplevel(request.repo.resolve())
    base = revision.resolve(root, request.base)
    head_commit = revision.head_commit(root)
    if request.changed is not None:
        changed = tuple(dict.fromkeys(_rel((root / c) if not Path(c).is_absolute()
                                           else Path(c), root) for c in request.changed))
    else:
        changed = revision.changed_files(root, base)
    base_root = Path(workdir or tempfile.mkdtemp(prefix="pfdrill-gate-base-"))
    notes: list[str] = []

    explicit = None
    if request.runbook is not None:
        explicit = request.runbook if request.runbook.is_absolute() else root / request.runbook
        if not explicit.is_file():
            raise InvalidInput("--runbook: no such file", file=request.runbook)
    base_runbook = None
    if explicit is not None:
        rel_runbook = Path(_rel(explicit, root))
        base_runbook = explicit if rel_runbook.is_absolute() else base_root / rel_runbook

    # drill files at the head and at the base
    files = sorted({p for pattern in request.drill_files for p in root.glob(pattern)
                    if p.is_file() and _is_suite(p)})
    wanted = {str(Path(_rel(f, root)).parent) for f in files} | set(RUNBOOK_DIRS)
    if explicit is not None:
        wanted.add(str(Path(_rel(explicit, root)).parent))
    heads = [(f, _load_suite(f, explicit)) for f in files]
    for _, suite in heads:
        for d in suite.drills:
            if d.runbook is not None:
                wanted.add(str(Path(_rel(Path(d.runbook.path), root)).parent))
    inside = tuple(sorted(w for w in wanted if w and w != "." and not Path(w).is_absolute()))
    revision.extract(root, base, inside, base_root)

    suites: list[touched.Suite] = []
    for f, head_suite in heads:
        rel = _rel(f, root)
        if request.only:
            head_suite = head_suite.only(tuple(request.only))
        base_file = base_root / rel
        base_suite = None
        if base_file.is_file() and _is_suite(base_file):
            try:
                base_suite = _load_suite(base_file, base_runbook)
            except InvalidInput as exc:
                notes.append(f"{rel} at the base does not load ({exc.message}): its drills "
                             "count as new")
        suites.append(touched.Suite(rel, head_suite, base_suite))
    if request.only:
        known = {d.name for _, s in heads for d in s.drills}
        unknown = [n for n in request.only if n not in known]
        if unknown:
            raise InvalidInput(f"--only: no drill named {', '.join(map(repr, unknown))} in "
                               f"{', '.join(_rel(f, root) for f in files) or 'the drill files'}")

    # runbooks: those the drills run, the one asked for, and changed Markdown that parses as one
    paths: dict[str, Path] = {}
    for s in suites:
        for d in s.head.drills:
            if d.runbook is not None:
                paths[str(Path(d.runbook.path).resolve())] = Path(d.runbook.path)
    if explicit is not None:
        paths[str(explicit.resolve())] = explicit
    for c in changed:
        if c.endswith(".md") and (root / c).is_file() and any(
                fnmatch.fnmatch(c, f"{d}/*") for d in RUNBOOK_DIRS):
            paths.setdefault(str((root / c).resolve()), root / c)
    books: dict[str, touched.Book] = {}
    judged: list[Judged] = []
    for key, path in paths.items():
        head = parser.parse_file(path)  # bad input at the head: exit 2, nothing runs
        rel = _rel(path, root)
        # outside the repository a runbook is no part of the change: the base is the file itself
        base_path = path if Path(rel).is_absolute() else base_root / rel
        data = base_path.read_bytes() if base_path.is_file() else None
        base_book, note = _parse_base(data, base_path)
        if note:
            notes.append(f"{rel}: {note}")
        book = touched.Book(head=head, base=base_book, diff=diff.diff(base_book, head), file=rel)
        books[key] = book
        if not book.diff.identical or (explicit is not None and key == str(explicit.resolve())):
            judged.append(Judged(book, base_path if base_book is not None else None,
                                 severity.to_run(base_book, head)))
    # the drill files, checked against the head's runbooks before anything runs (a section
    # that is gone is a finding, not bad input)
    for s in suites:
        runnable = tuple(d for d in s.head.drills if not touched.missing_sections(
            d, books.get(str(Path(d.runbook.path).resolve())) if d.runbook else None))
        suitefile.check(dataclasses.replace(s.head, drills=runnable), wiring.fault_catalog(),
                        wiring.RunbookChecker())

    changes = touched.Changes(
        files=frozenset(changed), faults=sources.faults_touched(changed),
        checks=sources.checks_touched(changed, lambda p: revision.changed_lines(root, base, p)))
    chosen = touched.select(tuple(suites), books, changes, head_root=root, base_root=base_root)
    findings = [*chosen.findings]
    for j in judged:
        if j.book.base is not None:
            findings += regression.removed(j.book.diff, j.book.file)
    return Plan(root=root, base=base, head_commit=head_commit, base_root=base_root,
                changed=changed, runbooks=tuple(judged), suites=tuple(suites),
                selected=chosen.selected, findings=tuple(findings), notes=tuple(notes))
