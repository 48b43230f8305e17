"""Shared test configuration.

The ``drill_cluster`` session fixture (one kwok cluster for the whole test
session) comes from pfdrill's own pytest plugin, ``pfdrill.bdd.cluster``, so
that ``features/`` and ``tests/`` share it. Pass ``--pfdrill-keep-cluster``
to keep it running between local runs.

At the end of the session (after every fixture's teardown) no process the
session started may be left: :mod:`leakcheck`.
"""

from __future__ import annotations

import sys

import pytest

import leakcheck  # tests/ is on sys.path (rootdir conftest, prepend import mode)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if a process it started is still there (after every teardown)."""
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
