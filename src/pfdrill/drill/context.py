"""What a phase is given: the drill's spec and environment, its recorder and its hold.

Phases read what earlier phases found through the recorder (the injection
time, the baseline, the classification...), never through shared attributes;
the helpers here derive those facts in one place.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from pfdrill.cluster import lease
from pfdrill.drill import responder
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.hold import Hold
from pfdrill.drill.observer import Observers
from pfdrill.drill.recorder import DrillRecorder
from pfdrill.errors import PfdrillError
from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import SectionEvidence, Signal
from pfdrill.model.phases import (
    Detection,
    Injection,
    Judgement,
    Preflight,
    Recovery,
    Response,
    Triage,
)
from pfdrill.model.timeline import EventKind, Phase

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class DrillContext:
    spec: DrillSpec
    env: DrillEnvironment
    rec: DrillRecorder
    hold: Hold
    observers: Observers
    run_id: str
    incident_id: str
    holder: str

    def budget(self, phase: Phase) -> float:
        return self.spec.sla.budget(phase)

    def poll(self, look: Callable[[], T], done: Callable[[T], bool],
             timeout_s: float) -> tuple[T, bool]:
        """Look until ``done`` or the time is up; the last look and whether it was done."""
        clock = self.rec.clock
        deadline = clock.monotonic() + max(0.0, timeout_s)
        while True:
            value = look()
            if done(value):
                return value, True
            now = clock.monotonic()
            if now >= deadline:
                return value, False
            clock.sleep(min(self.env.poll_interval_s, deadline - now))

    def read(self, source: str, fn: Callable[[], T]) -> T | None:
        """Evidence from ``source``, or ``None`` recorded as unavailable (never fatal)."""
        try:
            return fn()
        except PfdrillError as exc:
            self.rec.unavailable(source, str(exc))
            return None

    def rollback_fault(self, why: str) -> None:
        """Undo the drill's fault if it is in effect (the root cause "fixed", or restore)."""
        if self.hold.rollback():
            self.rec.note(EventKind.ROLLBACK, f"fault rolled back ({why})")

    # --- facts earlier phases recorded -----------------------------------------------------
    @property
    def injection(self) -> Injection | None:
        return self.rec.latest(Injection)

    @property
    def injected_at(self) -> float | None:
        inj = self.injection
        return inj.injected_at if inj else None

    def since_injection(self) -> float | None:
        at = self.injected_at
        return None if at is None else self.rec.elapsed() - at

    def evidence_since(self) -> dt.datetime:
        """Where evidence of the fault (logs, notifications) may start: the inject action's start."""
        inj = self.injection
        start = inj.started_at if inj and inj.started_at is not None else 0.0
        return self.rec.wall(start)

    @property
    def baseline(self) -> tuple[Signal, ...]:
        pre = self.rec.latest(Preflight)
        return pre.baseline if pre else ()

    @property
    def sections(self) -> tuple[SectionEvidence, ...]:
        """Every runbook section run so far, in order."""
        out: list[SectionEvidence] = []
        for found in self.rec.found:
            if isinstance(found, (Response, Recovery, Judgement)):
                out.extend(found.sections)
        return tuple(out)

    def runbook_variables(self, also: Sequence[SectionEvidence] = ()) -> dict[str, str]:
        """The runbook's environment: webhooks etc., plus what the responder tells it
        (``also``: sections the running phase has run so far)."""
        det, tri = self.rec.latest(Detection), self.rec.latest(Triage)
        view = responder.ResponderView(
            drill=self.spec.name, incident_id=self.incident_id,
            expected=self.spec.expected_severity,
            classification=tri.classification if tri else None,
            alerts=det.alerts if det else (), sections=(*self.sections, *also),
            since_injection_s=self.since_injection(), mttd_s=det.mttd if det else None)
        return {**self.env.runbook_env, **responder.variables(view)}


def holder_identity(run_id: str) -> str:
    """Who holds the drill lease: host and pid, so a dead holder on this host is recognisable."""
    return str(lease.RunHolder.mine(run_id))


INCIDENT_ID_MAX = 64  # incident stores (pfctl's among them) cap ids at 64 characters


def drill_incident_id(run_id: str, drill: str) -> str:
    """``DRILL-<run>-<drill>``, with a long drill name cut and made unique by a short hash."""
    name = re.sub(r"[^A-Za-z0-9._:-]+", "-", drill).strip("-") or "drill"
    head = f"DRILL-{run_id}-"
    if len(head) + len(name) <= INCIDENT_ID_MAX:
        return head + name
    digest = hashlib.sha256(drill.encode()).hexdigest()[:8]
    keep = max(1, INCIDENT_ID_MAX - len(head) - len(digest) - 1)
    return f"{head}{name[:keep].rstrip('-')}-{digest}"
