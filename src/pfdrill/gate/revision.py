"""The change under judgement, read from git: base revision, changed files, files as they were.

The gate compares the working tree (the pull request's head, as CI checks it
out) with a base revision — by default the merge base with the repository's
default branch, found the way CI systems name it (``origin/HEAD``, else
``main`` or ``master``, local or on ``origin``). Only the git command line is
used, which every CI image has.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

from pfdrill.errors import EnvironmentProblem, InvalidInput

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=120,
                              check=False)
    except FileNotFoundError:
        raise EnvironmentProblem("git is not installed (the gate reads the change from git)") \
            from None
    if check and done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InvalidInput(f"git {' '.join(args)}: {err[-1] if err else 'failed'}", file=repo)
    return done


def _out(repo: Path, *args: str) -> str:
    return _git(repo, *args).stdout.decode("utf-8", "replace").strip()


def toplevel(where: Path) -> Path:
    """The work tree ``where`` belongs to; InvalidInput outside a git repository."""
    done = _git(where, "rev-parse", "--show-toplevel", check=False)
    if done.returncode != 0:
        raise InvalidInput("not inside a git repository: the gate judges a change against its "
                           "base revision (run it in the checkout, or pass --repo)", file=where)
    return Path(done.stdout.decode().strip())


def default_branch(repo: Path) -> str:
    """``origin/HEAD``'s target, else the first of main, master, origin/main, origin/master."""
    done = _git(repo, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", check=False)
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.decode().strip().removeprefix("refs/remotes/")
    for name in ("main", "master", "origin/main", "origin/master"):
        if _git(repo, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}",
                check=False).returncode == 0:
            return name
    raise InvalidInput("cannot tell the default branch (no origin/HEAD, main or master): "
                       "pass --base REV", file=repo)


@dataclasses.dataclass(frozen=True)
class Base:
    """The revision the change is judged against."""

    name: str  # as asked for ("origin/main", "HEAD~1") or "merge-base with main"
    commit: str  # full sha

    @property
    def short(self) -> str:
        return self.commit[:12]


def resolve(repo: Path, base: str | None) -> Base:
    """``base`` as a commit, or the merge base of HEAD with the default branch."""
    if base:
        done = _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", check=False)
        if done.returncode != 0:
            raise InvalidInput(f"--base {base!r} is not a revision of this repository", file=repo)
        return Base(base, done.stdout.decode().strip())
    branch = default_branch(repo)
    done = _git(repo, "merge-base", "HEAD", branch, check=False)
    if done.returncode != 0:
        raise InvalidInput(f"HEAD and {branch} have no common ancestor: pass --base REV "
                           "(a shallow CI checkout needs fetch-depth: 0)", file=repo)
    return Base(f"merge-base with {branch}", done.stdout.decode().strip())


def head_commit(repo: Path) -> str:
    done = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
    return done.stdout.decode().strip() if done.returncode == 0 else ""


def changed_files(repo: Path, base: Base) -> tuple[str, ...]:
    """Paths (repo-relative) that differ between ``base`` and the working tree, renames as both
    names, plus untracked files (a new runbook not yet added is part of the change too)."""
    out: list[str] = []
    text = _out(repo, "diff", "--name-status", "-M", "-z", base.commit, "--")
    fields = [f for f in text.split("\0") if f]
    i = 0
    while i < len(fields):
        status = fields[i]
        n = 2 if status[:1] in ("R", "C") else 1
        out.extend(fields[i + 1:i + 1 + n])
        i += 1 + n
    untracked = _out(repo, "ls-files", "--others", "--exclude-standard", "-z")
    out.extend(f for f in untracked.split("\0") if f)
    return tuple(dict.fromkeys(out))


def show(repo: Path, base: Base, path: str) -> bytes | None:
    """The bytes of ``path`` at ``base``; None when it did not exist there."""
    done = _git(repo, "show", f"{base.commit}:{path}", check=False)
    return done.stdout if done.returncode == 0 else None


def files_under(repo: Path, base: Base, paths: tuple[str, ...]) -> tuple[str, ...]:
    """The files below ``paths`` at ``base``."""
    if not paths:
        return ()
    text = _out(repo, "ls-tree", "-r", "-z", "--name-only", base.commit, "--", *paths)
    return tuple(f for f in text.split("\0") if f)


def extract(repo: Path, base: Base, paths: tuple[str, ...], into: Path) -> Path:
    """Write the files below ``paths`` as they were at ``base`` into ``into`` (same layout)."""
    for rel in files_under(repo, base, paths):
        data = show(repo, base, rel)
        if data is None:
            continue
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return into


def changed_lines(repo: Path, base: Base, path: str) -> frozenset[int]:
    """Lines of the working-tree ``path`` that the change touched (a deletion marks the line
    after it), from ``git diff -U0``."""
    text = _out(repo, "diff", "-U0", "--no-color", base.commit, "--", path)
    lines: set[int] = set()
    for row in text.splitlines():
        m = _HUNK.match(row)
        if not m:
            continue
        start = int(m.group("start"))
        count = int(m.group("count")) if m.group("count") is not None else 1
        lines.update(range(start, start + count) if count else (max(start, 1),))
    return frozenset(lines)
