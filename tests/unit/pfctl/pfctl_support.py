"""Test helpers for pfctl: a reload observer with a fixed answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from pfdrill.runbook.observer import ConfigVerdict, Verdict


class StubObserver:
    """Answers every reload question with one verdict, and remembers the questions."""

    def __init__(self, verdict: Verdict = Verdict.ACCEPTED, detail: str = "2 pod(s) reloaded"):
        self.verdict = ConfigVerdict(verdict, detail)
        self.asked: list[dict[str, str]] = []

    def config_verdict(self, since: dt.datetime, expected: Mapping[str, str],
                       timeout_s: float) -> ConfigVerdict:
        self.asked.append(dict(expected))
        return self.verdict
