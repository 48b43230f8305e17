"""A simulated fabric for unit tests: one object whose state every fake reads and changes.

The world is a :class:`~pfdrill.cluster.fake.FakeCluster` seeded with the
reference fabric's objects, plus what Prometheus, Alertmanager, the sink, the
incident store and the runbook's files would hold. Steady state, alerts and
classification are derived from that state, so a fake drill is coherent: a
fault that is not rolled back keeps steady state broken, a mitigation that
does not patch the ConfigMap is seen not to. Time is a :class:`FakeClock`
that only moves when someone sleeps or waits.

Knobs for the failures drills must catch:

- ``silenced``: alert names whose rule was removed (never fire);
- ``severity_override``: the classifier returns this instead;
- ``broken_sections``: runbook sections whose change command fails (and does nothing);
- ``sticky_faults``: faults whose rollback does not heal (recovery cannot succeed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable

from pfdrill.cluster.fake import FakeCluster
from pfdrill.model.detection import Channel
from pfdrill.model.evidence import IncidentRecord, Notification
from pfdrill.model.severity import Severity

EPOCH = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
OPTIN = {"pfdrill.dev/drills": "enabled"}
TRUST_BUNDLE = b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
DFA = '{"states": ["s0", "s1"], "start": "s0", "accept": ["s1"]}'
WATCHERS = 2


class FakeClock:
    """A clock that moves only when slept on: drills that take minutes run in microseconds."""

    def __init__(self, start: dt.datetime = EPOCH) -> None:
        self._start = start
        self.t = 1000.0  # monotonic origin is arbitrary, as on a real machine
        self.listeners: list[Callable[[], None]] = []  # told after time moved

    def monotonic(self) -> float:
        return self.t

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=self.t - 1000.0)

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        for listener in self.listeners:
            listener()

    advance = sleep


@dataclasses.dataclass
class ActiveFault:
    name: str
    alerts: tuple[str, ...]
    severity: Severity
    reasons: tuple[str, ...]
    injected: dt.datetime
    healed: dt.datetime | None = None


class FakeWorld:
    def __init__(self, *, context: str = "kwok-pfdrill", namespace: str = "production",
                 detect_delay_s: float = 8.0, notify_delay_s: float = 2.0,
                 prove_delay_s: float = 1.0, command_s: float = 0.5) -> None:
        self.clock = FakeClock()
        self.clock.listeners.append(self.tick)  # scheduled effects happen as time passes
        self.namespace = namespace
        self.cluster = FakeCluster(context)
        self.detect_delay_s = detect_delay_s
        self.notify_delay_s = notify_delay_s
        self.prove_delay_s = prove_delay_s
        self.command_s = command_s
        self.notifications: list[Notification] = []
        self.incidents: dict[str, IncidentRecord] = {}
        self.files: dict[str, bytes] = {}
        self.rules: set[str] = {
            "PolicyEnforcementDisabled", "SidecarWatcherAllDown", "PolicyAdapterFailingOpen",
            "PolicyAdapterErrors", "CertificateVerificationFailures", "BridgeGuaranteeFailure",
            "RejectRateSpikeHigh", "RejectRateSpikeMedium", "DfaIntegrityFailure",
            "DfaArtifactRefused"}
        self.logs: list[tuple[dt.datetime, str, str]] = []  # (when, app label, line)
        self.faults: list[ActiveFault] = []
        self.reject_multiplier = 1.0
        self._due: list[tuple[dt.datetime, Callable[[], None]]] = []
        # knobs
        self.silenced: set[str] = set()
        self.severity_override: Severity | None = None
        self.broken_sections: dict[str, str] = {}
        self.sticky_faults: set[str] = set()
        self._seed()

    def _seed(self) -> None:
        c, ns = self.cluster, self.namespace
        c.add_namespace(ns, OPTIN)
        c.add_configmap(ns, "policy-config", {
            "enforcement_mode": "enforce", "performance_mode": "disabled", "cache_size": "256",
            "batch_size": "10", "async_processing": "false", "high_assurance_mode": "false",
            "log_level": "info"})
        c.add_configmap(ns, "dfa-artifact", {"dfa.json": DFA, "sha256": _sha(DFA.encode())})
        c.add_secret(ns, "fabric-certs", {"trust-bundle.pem": TRUST_BUNDLE})
        c.add_deployment(ns, "sidecar-watcher", WATCHERS)
        c.add_deployment(ns, "policy-adapter", 1)

    # --- time-driven effects ------------------------------------------------------
    def at(self, when: dt.datetime, effect: Callable[[], None]) -> None:
        self._due.append((when, effect))

    def tick(self) -> None:
        """Apply every scheduled effect whose time has come (oldest first)."""
        now = self.clock.now()
        due = sorted((w, i) for i, (w, _) in enumerate(self._due) if w <= now)
        for _, i in due:
            self._due[i][1]()
        self._due = [d for d in self._due if d[0] > now]

    def notify(self, channel: Channel, text: str, alerts: tuple[str, ...] = (),
               when: dt.datetime | None = None) -> None:
        self.notifications.append(Notification(
            channel=channel, received_wall=(when or self.clock.now()).isoformat(), text=text,
            alerts=alerts))

    def log(self, app: str, line: str) -> None:
        self.logs.append((self.clock.now(), app, line))

    # --- state the fakes derive from ----------------------------------------------
    def config(self) -> dict[str, str]:
        return self.cluster.get_configmap(self.namespace, "policy-config")

    def ready(self, deployment: str) -> int:
        return self.cluster.get_deployment(self.namespace, deployment).ready

    def trust_bundle_ok(self) -> bool:
        data = self.cluster.get_secret(self.namespace, "fabric-certs")
        return data.get("trust-bundle.pem") == TRUST_BUNDLE

    def dfa_ok(self) -> bool:
        cm = self.cluster.get_configmap(self.namespace, "dfa-artifact")
        return _sha(cm.get("dfa.json", "").encode()) == cm.get("sha256")

    def active_faults(self) -> list[ActiveFault]:
        return [f for f in self.faults if f.healed is None]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RulesKeeper:
    """The world's loaded alert rules as restorable state (``pfctl monitoring`` changes them)."""

    name = "prometheus-rules"

    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def save(self) -> str:
        return "\n".join(sorted(self._w.rules))

    def restore(self, saved: str) -> list[str]:
        want = set(filter(None, saved.split("\n")))
        if want == self._w.rules:
            return []
        self._w.rules = want
        return ["alert rules restored"]
