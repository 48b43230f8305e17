"""Shared test configuration.

The ``drill_cluster`` session fixture (one kwok cluster for the whole test
session) comes from pfdrill's own pytest plugin, ``pfdrill.bdd.cluster``, so
that ``features/`` and ``tests/`` share it. Pass ``--pfdrill-keep-cluster``
to keep it running between local runs.

At the end of the session (after every fixture's teardown) no process the
session started may be left: :mod:`leakcheck`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import background_build  # tests/ is on sys.path (rootdir conftest, prepend import mode)
import leakcheck


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the optional toolchain builds the collected tests need (background_build)."""
    background_build.start(session)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if a process it started is still there (after every teardown);
    a background toolchain build still running is stopped first."""
    background_build.stop(session)
    keep = bool(session.config.getoption("--pfdrill-keep-cluster", default=False))
    left = leakcheck.leftovers(allow_detached=keep)
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["processes left running by the test session:", *(f"  {x}" for x in left)]
    if reporter is not None:
        reporter.write_line("\n".join(lines), red=True)
    else:
        print("\n".join(lines), file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


# Fuzzing profiles, the one place every parser's fuzz test (tests/unit/fuzz/, the runbook
# parser's) takes them from: ``settings.get_profile("pfdrill-fuzz-long" if
# os.environ.get("PFDRILL_FUZZ") == "long" else "pfdrill-fuzz")``. ``make test`` runs the
# bounded one; ``make fuzz`` sets PFDRILL_FUZZ=long. The deadline bounds each example, so
# a parser that hangs on some input fails instead of stalling; examples take well under
# 100 ms, the margin is for a shared machine running at ten times its cores.
for _name, _examples in (("pfdrill-fuzz", 100), ("pfdrill-fuzz-long", 5000)):
    settings.register_profile(
        _name, max_examples=_examples, deadline=timedelta(seconds=5),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True)


class NetworkContact(BaseException):
    """Raised by a socket or process a fuzzed parser opens: a BaseException, so no
    ``except Exception`` in the code under test can swallow it."""


@pytest.fixture(scope="module")
def no_network() -> Iterator[None]:
    """Parsers are pure: any connection or child process fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NetworkContact(f"a parser tried to reach out: {args[:2]!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        mp.setattr(subprocess.Popen, "__init__", refuse)
        yield


PROJECT = Path(__file__).resolve().parents[1]


class GitRepo:
    """A throw-away git repository holding copies of the project's runbook, drills and features,
    for testing ``pfdrill gate`` on real commits (a base, then edits on top)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "gate@test.invalid")
        self.git("config", "user.name", "gate test")

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True,
                              text=True, check=True)
        return done.stdout.strip()

    def copy(self, *rel: str) -> GitRepo:
        """Copy project paths (files or directories) into the repository, same layout."""
        for r in rel:
            src, dst = PROJECT / r, self.root / r
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
        return self

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def edit(self, rel: str, old: str, new: str) -> None:
        """Replace ``old`` (which must be there, once) by ``new`` in ``rel``."""
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str) -> None:
        self.git("checkout", "-q", "-b", name)


@pytest.fixture
def git_repo(tmp_path: Path) -> Callable[..., GitRepo]:
    """``git_repo("runbooks", "drills", "features")``: a repository with those project paths
    committed on ``main`` and a branch ``change`` checked out for the edit under test."""

    def make(*paths: str) -> GitRepo:
        repo = GitRepo(tmp_path / "repo").copy(*paths)
        repo.commit("base")
        repo.branch("change")
        return repo

    return make
