"""Fake observers of a :class:`FakeWorld`: steady state, detection, classification, evidence."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from pfdrill.drill.fake.world import BASELINE_REJECTS, WATCHERS, FakeWorld
from pfdrill.drill.ports import AlertSighting
from pfdrill.model.detection import Channel
from pfdrill.model.evidence import (
    Artifact,
    Classification,
    IncidentRecord,
    Notification,
    ProbeSample,
    Signal,
)
from pfdrill.model.fabric import FABRIC
from pfdrill.model.signals import Baseline


class FakeSteadyState:
    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def check(self) -> Sequence[ProbeSample]:
        w = self._w
        w.tick()
        mode = w.config().get("enforcement_mode", "")
        serious = [a for a, sev in w.firing() if sev.value in ("SEV-1", "SEV-2")]
        return (
            ProbeSample("enforcement_mode", mode, "enforce", mode == "enforce"),
            ProbeSample("sidecar-watcher ready", str(w.ready(FABRIC.watcher)),
                        f">= {WATCHERS}", w.ready("sidecar-watcher") >= WATCHERS),
            ProbeSample("policy-adapter ready", str(w.ready(FABRIC.adapter)), ">= 1",
                        w.ready(FABRIC.adapter) >= 1),
            ProbeSample("trust bundle", "valid" if w.trust_bundle_ok() else "corrupt", "valid",
                        w.trust_bundle_ok()),
            ProbeSample("dfa integrity", "ok" if w.dfa_ok() else "mismatch", "ok", w.dfa_ok()),
            ProbeSample("reject rate vs baseline", f"{w.reject_multiplier:g}x", "<= 1.5x",
                        w.reject_multiplier <= 1.5),
            ProbeSample("SEV-1/2 rows matching", ", ".join(serious) or "none", "none",
                        not serious),
        )


class FakeDetector:
    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def _sightings(self, since: dt.datetime) -> list[AlertSighting]:
        w = self._w
        w.tick()
        now = w.clock.now()
        out = []
        for f in w.faults:
            for alert in f.alerts:
                if alert in w.silenced:
                    continue
                fired = f.injected + dt.timedelta(seconds=w.detect_delay_s)
                if fired < since or fired > now or (f.healed is not None and f.healed < fired):
                    continue
                notified = next((dt.datetime.fromisoformat(n.received_wall)
                                 for n in w.notifications
                                 if n.channel is Channel.ALERTMANAGER and alert in n.alerts
                                 and dt.datetime.fromisoformat(n.received_wall) >= since), None)
                out.append(AlertSighting(alert=alert, firing=fired, notified=notified,
                                         severity_label=f.severity.value, receiver="sink",
                                         bound_s=w.detect_delay_s))
        return out

    def wait_for_notification(self, alerts: Sequence[str], since: dt.datetime,
                              timeout_s: float) -> Sequence[AlertSighting]:
        w = self._w
        deadline = w.clock.monotonic() + timeout_s
        while True:
            seen = self._sightings(since)
            if any(s.alert in alerts and s.notified is not None for s in seen):
                return seen
            if w.clock.monotonic() >= deadline:
                return seen
            w.clock.sleep(min(1.0, deadline - w.clock.monotonic()))


class FakeClassifier:
    """The real classifier and threshold table over the simulated fabric's signals."""

    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def withdraw_baseline(self) -> None:
        """The simulated world keeps no published baseline: nothing to withdraw."""

    def baseline(self) -> Sequence[Signal]:
        return tuple(Signal(k, v) for k, v in self._w.baseline().gauges().items())

    def classify(self, baseline: Sequence[Signal]) -> Classification:
        w = self._w
        w.tick()
        if w.severity_override is not None:
            return Classification(w.severity_override, ("severity forced by the test",))
        base = Baseline.from_dict({s.name: s.value for s in baseline})
        got = w.classification(base)
        live = got.signals.to_dict()
        return Classification(got.severity, tuple(r.describe() for r in got.reasons),
                              tuple(Signal(k, float(v)) for k, v in live.items()
                                    if k != "measured_at" and v is not None))


class FakeNotifications:
    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def notifications(self, since: dt.datetime) -> Sequence[Notification]:
        self._w.tick()
        return [n for n in self._w.notifications
                if dt.datetime.fromisoformat(n.received_wall) >= since]


class FakeLogs:
    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def lines(self, namespace: str, selector: str, since: dt.datetime) -> Sequence[str]:
        app = selector.partition("=")[2] or selector
        return [line for when, a, line in self._w.logs if a == app and when >= since]


class FakeMetrics:
    """A handful of PromQL queries the fakes can answer; anything else is "no data"."""

    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def instant(self, query: str) -> float | None:
        w = self._w
        w.tick()
        q = query.replace(" ", "")
        mode = w.config().get("enforcement_mode", "")
        if q.startswith("enforcement_mode{mode="):
            return 1.0 if f'"{mode}"' in q else 0.0
        if q.startswith("sum(rate(permit_rejects_total") or q == "pfdrill:reject_rate":
            return w.signals().reject_rate
        if q == "pfdrill:enforcement_disabled":
            return 1.0 if mode == "disabled" else 0.0
        if q == "pfdrill:dfa_integrity_ok":
            return w.signals().dfa_integrity_ok
        if q.startswith("up{job="):
            job = q.split('"')[1]
            return 1.0 if w.ready(job) > 0 else 0.0
        return None

    def series(self, query: str, start: dt.datetime, end: dt.datetime,
               step_s: float) -> Sequence[tuple[dt.datetime, float]]:
        """A step curve: baseline, raised while a fault is active."""
        w = self._w
        out = []
        t = start
        while t <= end:
            active = [f for f in w.faults
                      if f.injected <= t and (f.healed is None or t < f.healed)]
            out.append((t, BASELINE_REJECTS * (w.reject_multiplier if active else 1.0)))
            t += dt.timedelta(seconds=step_s)
        return out


class FakeIncidents:
    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def incident(self, incident_id: str) -> IncidentRecord | None:
        return self._w.incidents.get(incident_id)


_KINDS = {b"%PDF": "pdf", b"BEGIN:VCALENDAR": "ics", b"\x1f\x8b": "tar.gz"}


class FakeArtifacts:
    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def artifacts(self) -> Sequence[Artifact]:
        out = []
        for name, data in sorted(self._w.files.items()):
            kind = next((k for magic, k in _KINDS.items() if data.startswith(magic)),
                        name.rsplit(".", 1)[-1])
            out.append(Artifact(name=name, path=f"sandbox/{name}",
                                sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                                kind=kind))
        return out

    def read_text(self, artifact: Artifact) -> str:
        return self._w.files[artifact.name].decode("utf-8", "replace")


class FakeRules:
    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def loaded_rules(self) -> frozenset[str]:
        return frozenset(self._w.rules)
