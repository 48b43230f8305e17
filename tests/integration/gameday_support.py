"""Shared set-up for the game-day integration tests: the stack, the host process, the responders.

- :func:`fabric_stack`: the detection pipeline (sink, Prometheus, Alertmanager, drill
  profile) and the reference fabric on the session's drill cluster, in the session's
  state dir — the one ``pfdrill gameday run`` (a subprocess) finds;
- :class:`Host`: ``pfdrill gameday run`` as its own process group, so a test can kill it
  the way a crash would (SIGKILL, children included) and start it again;
- :class:`Responders`: the runbook's own commands (its sections, parsed by pfdrill's
  runbook parser), run by hand in the game day's workspace with ``pfdrill gameday env``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from pfdrill.detect import pipeline
from pfdrill.fabric import deploy
from pfdrill.gameday import store
from pfdrill.model.gameday import GameDayState
from pfdrill.runbook import parser, selection
from pfdrill.settings.config import load_config
from pfdrill.settings.paths import Paths

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "runbooks" / "policy-enforcement-incident-response.md"
BIN = Path(sys.executable).parent
DECLARATION = "Initial Response / Incident Declaration"
MITIGATION = "Incident Response Actions / Immediate Mitigation"
RECOVERY = "Recovery Procedures / Policy Enforcement Recovery"
T = TypeVar("T")


def fabric_stack(drill_cluster: Any) -> None:
    pipeline.up(drill_cluster.name, "drill", targets_file=drill_cluster.runtime_dir /
                "targets.json")
    status = deploy.deploy(drill_cluster.client, config=load_config(), timeout_s=300)
    assert status.ready


def process_env(drill_cluster: Any) -> dict[str, str]:
    """The test's environment for pfdrill processes: kubectl on PATH, this checkout's code."""
    env = dict(drill_cluster.env)
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    return env


def game_file(tmp: Path, gameday: Mapping[str, Any], drills: tuple[str, ...]) -> Path:
    """drills/gameday.yaml with only ``drills`` and this ``gameday:`` block."""
    data = yaml.safe_load((REPO / "drills" / "gameday.yaml").read_text())
    data["defaults"]["runbook"] = str(RUNBOOK)
    data["drills"] = [d for d in data["drills"] if d["name"] in drills]
    data["gameday"] = dict(gameday)
    path = tmp / "gameday.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def wait_for(look: Callable[[], T | None], timeout_s: float, what: str,
             every_s: float = 0.5) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        got = look()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(every_s)


def pfdrill(*args: str, env: Mapping[str, str], timeout: float = 120,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(BIN / "pfdrill"), *args], env=dict(env), capture_output=True,
                          text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"pfdrill {' '.join(args)} exited {done.returncode}: "
                             f"{done.stderr.strip()}")
    return done


def state(game_id: str) -> GameDayState:
    return store.GameDayDir.of(game_id).load()


class Host:
    """``pfdrill gameday run`` in a process group of its own."""

    def __init__(self, file: Path, cluster: str, reports: Path, env: Mapping[str, str],
                 log: Path) -> None:
        self.argv = [str(BIN / "pfdrill"), "gameday", "run", str(file), "--name", cluster,
                     "--reports", str(reports)]
        self.env = dict(env)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._from = 0

    def start(self, timeout_s: float = 600) -> str:
        """Start, and return the facilitator's URL once the dashboard serves."""
        self._from = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        proc = self.proc

        def url() -> str | None:
            if proc.poll() is not None:
                raise AssertionError(f"gameday run exited {proc.returncode}: {self.output}")
            line = next((ln for ln in self.output.splitlines() if "facilitator:" in ln), None)
            return line.split("facilitator:", 1)[1].strip() if line else None
        return wait_for(url, timeout_s, "the game day's dashboard")

    @property
    def output(self) -> str:
        """What this run of the process printed (the log keeps earlier runs too)."""
        if not self.log.exists():
            return ""
        with self.log.open("rb") as fh:
            fh.seek(self._from)
            return fh.read().decode(errors="replace")

    def kill(self) -> None:
        """What a crash does: the process and its children (baseline traffic) gone, no restore."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def wait(self, timeout_s: float = 300) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout_s)

    def stop(self) -> None:
        """Tidy up after a failed test: SIGTERM restores whatever runs."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(300)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


class Responders:
    """People at a terminal: ``eval "$(pfdrill gameday env)"``, then the runbook's commands."""

    def __init__(self, exports: str, env: Mapping[str, str]) -> None:
        self.exports = exports
        self.env = dict(env)
        self.book = parser.parse_file(RUNBOOK)
        self.ran: list[subprocess.CompletedProcess[str]] = []

    def script(self, section: str) -> str:
        (sec,) = selection.select(self.book, [section])
        return "\n".join(c.text for b in sec.blocks if b.shell for c in b.commands)

    def run(self, section: str, *, severity: str, incident: str) -> None:
        # `kubectl logs -f` ends after a few seconds here: a person would press Ctrl-C
        body = (f'eval "$PFDRILL_GAMEDAY_ENV"\nexport PFDRILL_STREAM_SECONDS=3 '
                f'SEVERITY={severity} INCIDENT_ID={incident}\n{self.script(section)}\n')
        done = subprocess.run(["bash", "--noprofile", "--norc", "-c", body],
                              env={**self.env, "PFDRILL_GAMEDAY_ENV": self.exports},
                              capture_output=True, text=True, timeout=600, check=False)
        self.ran.append(done)


def aar(reports: Path, game_id: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((reports / game_id / "aar.json").read_text())
    return loaded


def current_id() -> str:
    ep = store.endpoint(Paths.from_env())
    assert ep is not None, "no game day published its endpoint"
    return ep.id
