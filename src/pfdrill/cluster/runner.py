"""Running external CLIs (kwokctl, kind): a seam with a real and a recording implementation."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from pfdrill.errors import EnvironmentProblem


@dataclasses.dataclass(frozen=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def last_error(self) -> str:
        """The most telling line of stderr, for one-line error messages."""
        lines = [ln.strip() for ln in (self.stderr or self.stdout).splitlines() if ln.strip()]
        for ln in reversed(lines):
            if "error" in ln.lower() or "failed" in ln.lower():
                return ln[:300]
        return lines[-1][:300] if lines else f"exit status {self.returncode}"


class CommandRunner(Protocol):
    def run(self, args: Sequence[str], *, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed: ...


class SubprocessRunner:
    """Runs commands for real."""

    def run(self, args: Sequence[str], *, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        try:
            proc = subprocess.run(list(args), env=dict(env) if env is not None else None,
                                  capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except FileNotFoundError as exc:
            raise EnvironmentProblem(f"{args[0]}: command not found") from exc
        except subprocess.TimeoutExpired as exc:
            raise EnvironmentProblem(f"{' '.join(args[:3])}: timed out after {timeout:.0f}s") from exc
        return Completed(tuple(args), proc.returncode, proc.stdout, proc.stderr)


class RecordingRunner:
    """A fake runner for unit tests: records every command, answers from a responder."""

    def __init__(self, responder: Callable[[tuple[str, ...]], Completed] | None = None) -> None:
        self.commands: list[tuple[str, ...]] = []
        self.envs: list[dict[str, str] | None] = []
        self._responder = responder or (lambda args: Completed(args, 0, "", ""))

    def run(self, args: Sequence[str], *, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Completed:
        self.commands.append(tuple(args))
        self.envs.append(dict(env) if env is not None else None)
        return self._responder(tuple(args))
