"""Optional toolchain components a test needs, built in the background while others run.

The in-cluster Prometheus (``pfdrill toolchain ensure --only prometheus``) takes minutes
to build on a cold Go cache. A test module that needs it is marked
``@pytest.mark.toolchain_build("prometheus")``; once collection has found such a test,
the session starts that build at the lowest CPU priority (``nice -n 19``), so it uses the
cores the drills leave idle, and the test waits for it (:func:`wait`). The build is
stopped if the session ends first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pfdrill.toolchain import build

KEY = pytest.StashKey[dict[str, "Build"]]()
PFDRILL = str(Path(sys.executable).parent / "pfdrill")


class Build:
    def __init__(self, component: build.Component, log: Path) -> None:
        self.component, self.log = component, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if all(s.present for s in build.status() if s.component == self.component.value):
            return
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                ["nice", "-n", "19", PFDRILL, "toolchain", "ensure", "--only", self.component.value],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout_s: float) -> None:
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.stop()
                raise AssertionError(f"building {self.component.value} took over {timeout_s:.0f} s: "
                                     f"{self.log}") from None
            if code != 0:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-3:]
                raise AssertionError(f"building {self.component.value} failed: {' | '.join(tail)}")
        build.ensure(components=(self.component,), progress=print)  # cached now: returns at once

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start(session: pytest.Session) -> None:
    wanted = {str(m.args[0]) for item in session.items
              for m in item.iter_markers("toolchain_build")}
    if not wanted:
        return
    tmp = Path(session.config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
    builds = {}
    for name in sorted(wanted):
        b = Build(build.Component(name), tmp / f"toolchain-{name}.log")
        b.start()
        builds[name] = b
    session.config.stash[KEY] = builds


def wait(config: pytest.Config, name: str, timeout_s: float = 2400) -> None:
    """Block until ``name`` is built (by the background build, or here if none ran)."""
    b = config.stash.get(KEY, {}).get(name) or Build(build.Component(name), Path(os.devnull))
    b.wait(timeout_s)


def stop(session: pytest.Session) -> None:
    for b in session.config.stash.get(KEY, {}).values():
        b.stop()
