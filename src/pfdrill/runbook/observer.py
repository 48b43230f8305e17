"""Watching the fabric react to a change: did the sidecar-watcher accept a policy-config edit?

A ConfigMap that reads back right is not yet a change that took effect: the
watcher reloads it from its projected volume and may refuse it (an invalid
``enforcement_mode``), keeping the last good configuration. The watcher says
which in its log — ``event=config_reload result=success mode=...`` or
``level=ERROR event=config_reload result=failure msg=...`` — so the observer
reads the watcher pods' logs through kubectl and looks at reload lines
newer than the change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import time
from collections.abc import Mapping
from typing import Protocol

from pfdrill.cluster import logs
from pfdrill.errors import EnvironmentProblem
from pfdrill.fabric import logline

_NO_PODS = "no pods"


class Verdict(enum.Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNOBSERVED = "unobserved"  # no watcher running, or no reload seen in time


@dataclasses.dataclass(frozen=True)
class ConfigVerdict:
    verdict: Verdict
    detail: str


class FabricObserver(Protocol):
    def config_verdict(
        self, since: dt.datetime, expected: Mapping[str, str], timeout_s: float
    ) -> ConfigVerdict:
        """How the watcher took a policy-config change made at ``since``."""
        ...


def _ts(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _pod(raw: str) -> str:
    return raw[1:raw.index("]")] if raw.startswith("[") and "]" in raw else ""


def judge_reloads(lines: list[str], since: dt.datetime, expected: Mapping[str, str],
                  final: bool = False) -> ConfigVerdict | None:
    """The verdict the log ``lines`` support for a change made at ``since``; None: keep waiting.

    ``kubectl logs --prefix`` lines start with ``[pod/NAME/container]``. Only
    reloads logged after the change count (a pod that just started logs the
    old value a moment before). A refusal anywhere is the verdict at once;
    acceptance needs every pod that logs at all to have reloaded the expected
    mode. With ``final`` (the time is up) partial evidence is judged as it is.
    """
    pods: set[str] = set()
    latest: dict[str, str] = {}
    for raw in lines:
        pods.add(_pod(raw))
        entry = logline.parse(raw)
        if entry is None or entry.event != "config_reload":
            continue
        when = _ts(entry.ts)
        if when is None or when < since:
            continue
        result = entry.fields.get("result", "")
        if result == "failure":
            return ConfigVerdict(Verdict.REFUSED, entry.fields.get("msg", "policy-config refused"))
        if result == "success":
            latest[_pod(raw)] = entry.fields.get("mode", "")
    want = expected.get("enforcement_mode", "").strip().lower()
    good = {p for p, mode in latest.items() if not want or mode == want}
    if good and good >= pods:
        return ConfigVerdict(Verdict.ACCEPTED, f"{len(good)} watcher pod(s) reloaded "
                             f"policy-config (mode={latest[next(iter(good))]})")
    if not final:
        return None
    other = {p: m for p, m in latest.items() if p not in good}
    if other:
        modes = ", ".join(f"{p or 'watcher'}: {m}" for p, m in sorted(other.items()))
        return ConfigVerdict(Verdict.REFUSED, f"watcher kept another mode ({modes})")
    if good:
        return ConfigVerdict(Verdict.ACCEPTED, f"{len(good)} of {len(pods)} watcher pod(s) "
                             f"reloaded policy-config")
    return None


class KubectlLogObserver:
    """Reads ``kubectl logs -l app=sidecar-watcher`` until a verdict or the timeout."""

    def __init__(self, kubectl: str, env: Mapping[str, str], namespace: str,
                 selector: str, poll_s: float = 0.5) -> None:
        self._reader = logs.KubectlLogs(kubectl, env=env)
        self.namespace = namespace
        self.selector = selector
        self.poll_s = poll_s

    def _lines(self) -> tuple[list[str], str]:
        try:
            return list(self._reader.lines(self.namespace, self.selector, tail=3000,
                                           timeout_s=20)), ""
        except logs.NoPods:
            return [], _NO_PODS
        except EnvironmentProblem as exc:
            return [], str(exc)

    def config_verdict(
        self, since: dt.datetime, expected: Mapping[str, str], timeout_s: float
    ) -> ConfigVerdict:
        deadline = time.monotonic() + timeout_s
        problem = ""
        while True:
            lines, problem = self._lines()
            final = time.monotonic() >= deadline
            verdict = judge_reloads(lines, since, expected, final=final)
            if verdict is not None:
                return verdict
            if problem == _NO_PODS:
                return ConfigVerdict(Verdict.UNOBSERVED,
                                     f"no pod matching {self.selector} is running to apply it")
            if final:
                break
            time.sleep(self.poll_s)
        detail = f"no sidecar-watcher reload logged within {timeout_s:g}s"
        if problem:
            detail += f" ({problem.splitlines()[-1][:200]})"
        return ConfigVerdict(Verdict.UNOBSERVED, detail)
