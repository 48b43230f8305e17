"""A simulated fabric for unit tests: one object whose state every fake reads and changes.

The world is a :class:`~pfdrill.cluster.fake.FakeCluster` seeded with the
reference fabric's real manifests, the one simulated fabric
(:class:`~pfdrill.faults.fake.SimulatedFabric`, whose metrics follow the
cluster's configuration), plus what the sink, the incident store and the
runbook's files would hold. The live signals come from the simulated fabric;
severity comes from the real classifier and threshold table, and which alerts
fire from the real alert rules (each names its table row) — so a fake drill is
coherent and cannot drift from the real judgement: a fault that is not rolled
back keeps steady state broken, a mitigation that does not patch the
ConfigMap is seen not to. Time is a :class:`FakeClock` that only moves when
someone sleeps or waits.

Knobs for the failures drills must catch:

- ``silenced``: alert names whose rule was removed (never fire);
- ``severity_override``: the classifier returns this instead;
- ``broken_sections``: runbook sections whose change command fails (and does nothing);
- ``sticky_faults``: faults whose rollback does not heal (recovery cannot succeed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable

from pfdrill.classify import classifier, thresholds
from pfdrill.cluster.fake import FakeCluster
from pfdrill.fabric import manifests
from pfdrill.fabric.authority import Authority
from pfdrill.faults import fake as simulated
from pfdrill.model.detection import Channel
from pfdrill.model.evidence import IncidentRecord, Notification
from pfdrill.model.fabric import FABRIC
from pfdrill.model.severity import Severity
from pfdrill.model.signals import Baseline, Signals, SignalVerdict
from pfdrill.obs import profile, rules
from pfdrill.settings.config import Config

EPOCH = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
WATCHERS = 2
# The steady reject rate of the simulated fabric (rejects/s, all watchers): what a
# baseline measures before a fault; a reject-rate fault multiplies it.
BASELINE_REJECTS = simulated.RATE * simulated.REJECT_SHARE * WATCHERS


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
        self.authority = Authority.generate()
        self.sim = simulated.SimulatedFabric(self.cluster, namespace,
                                             ca_key_id=self.authority.key_id)
        self._due: list[tuple[dt.datetime, Callable[[], None]]] = []
        # knobs
        self.silenced: set[str] = set()
        self.severity_override: Severity | None = None
        self.broken_sections: dict[str, str] = {}
        self.sticky_faults: set[str] = set()
        self._seed()
        self._steady = self.sim.signals()

    def _seed(self) -> None:
        config = Config(namespace=self.namespace)
        simulated.seed(self.cluster, manifests.render(
            manifests.default_dir(), self.authority.bundle(), namespace=self.namespace,
            optin_label=config.optin_label), config)

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
        return self.cluster.get_configmap(self.namespace, FABRIC.policy_config)

    def ready(self, deployment: str) -> int:
        return self.cluster.get_deployment(self.namespace, deployment).ready

    def trust_bundle_ok(self) -> bool:
        """The bundle parses and holds the key the fabric's certificates are issued by."""
        bundle = self.sim.bundle()
        return bundle is not None and self.authority.key_id in bundle.key_ids

    def dfa_ok(self) -> bool:
        return self.sim.dfa_ok()

    def active_faults(self) -> list[ActiveFault]:
        return [f for f in self.faults if f.healed is None]

    # --- judged by the real classifier and alert rules ---------------------------------
    def signals(self) -> Signals:
        extra = BASELINE_REJECTS * max(0.0, self.reject_multiplier - 1.0)
        return self.sim.signals(extra_rejects=extra)

    def baseline(self) -> Baseline:
        s = self._steady  # the steady state a drill's preflight measures
        return Baseline(latency_mean_seconds=s.latency_mean_seconds, reject_rate=s.reject_rate,
                        measured_at=s.measured_at)

    def classification(self, baseline: Baseline | None = None) -> SignalVerdict:
        return classifier.classify(self.signals(), baseline or self.baseline(),
                                   thresholds.load())

    def firing(self, baseline: Baseline | None = None) -> tuple[tuple[str, Severity], ...]:
        """The alerts whose table row the live signals are in: (alert, severity label)."""
        rows = {r.row: r.severity for r in self.classification(baseline).reasons}
        return tuple((a.name, rows[a.row]) for a in _ruleset().alerts if a.row in rows)


@functools.cache
def _ruleset() -> rules.RuleSet:
    source = rules.alerts_dir() / rules.RULES_FILE
    return rules.parse(rules.render(source, profile.get("drill")), source)


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
