"""Fake faults acting on a :class:`~pfdrill.drill.fake.world.FakeWorld`.

Each kind changes the world the way the real fault changes the fabric
(scale the adapter to zero, corrupt the trust bundle, patch the ConfigMap...)
and schedules the alerts the real rules would raise, with the severity the
runbook's table gives. Parameters are validated like the real catalog's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence

from pfdrill.drill.fake.world import ActiveFault, FakeWorld
from pfdrill.errors import InvalidInput
from pfdrill.model.detection import Channel
from pfdrill.model.drill import ParamValue
from pfdrill.model.evidence import ChaosJournal, JournalActivity
from pfdrill.model.fault import FaultObservation
from pfdrill.model.severity import Severity

Params = Mapping[str, ParamValue]


@dataclasses.dataclass(frozen=True)
class Effect:
    alerts: tuple[str, ...]
    severity: Severity
    reasons: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Kind:
    params: dict[str, Callable[[ParamValue], bool]]  # name -> is the value acceptable
    inject: Callable[[FakeWorld, Params], Callable[[], None]]  # returns its own undo
    effect: Callable[[Params], Effect]
    proven: Callable[[FakeWorld], tuple[bool, str]]
    terms: tuple[str, ...]


def _one_of(*values: str) -> Callable[[ParamValue], bool]:
    return lambda v: str(v) in values


def _fraction(v: ParamValue) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 < float(v) <= 1.0


def _positive(v: ParamValue) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) > 0


def _adapter(w: FakeWorld, p: Params) -> Callable[[], None]:
    w.cluster.scale_deployment(w.namespace, "policy-adapter", 0)
    w.log("sidecar-watcher", "ERROR policy adapter unreachable: connect refused")
    return lambda: w.cluster.scale_deployment(w.namespace, "policy-adapter", 1)


def _adapter_effect(p: Params) -> Effect:
    if str(p.get("failure_mode", "fail_closed")) == "fail_open":
        return Effect(("PolicyAdapterFailingOpen",), Severity.SEV1,
                      ("policy_adapter_fail_open_total rising: enforcement bypassed (adapter "
                       "failing open)",))
    return Effect(("RejectRateSpikeHigh", "PolicyAdapterErrors"), Severity.SEV2,
                  ("policy_adapter_errors_total rate above threshold; rejects > 10x baseline "
                   "(adapter failing closed)",))


def _certs(w: FakeWorld, p: Params) -> Callable[[], None]:
    before = w.cluster.get_secret(w.namespace, "fabric-certs")
    w.cluster.replace_secret(w.namespace, "fabric-certs", {"trust-bundle.pem": b"\x00garbage"})
    w.log("sidecar-watcher", "ERROR trust bundle refused: UNAUTHORIZED certificate")
    return lambda: w.cluster.replace_secret(w.namespace, "fabric-certs", before)


def _reject(w: FakeWorld, p: Params) -> Callable[[], None]:
    w.reject_multiplier = float(p.get("multiplier", 12))
    w.log("sidecar-watcher", "REJECT permit denied: POLICY_VIOLATION")

    def undo() -> None:
        w.reject_multiplier = 1.0
    return undo


def _reject_effect(p: Params) -> Effect:
    m = float(p.get("multiplier", 12))
    if m > 10:
        return Effect(("RejectRateSpikeHigh",), Severity.SEV2,
                      (f"reject rate {m:g}x baseline > 10x",))
    return Effect(("RejectRateSpikeMedium",), Severity.SEV3, (f"reject rate {m:g}x baseline",))


def _patch(cm: str, key: str, value: str) -> Callable[[FakeWorld, Params], Callable[[], None]]:
    def inject(w: FakeWorld, p: Params) -> Callable[[], None]:
        before = w.cluster.get_configmap(w.namespace, cm)
        w.cluster.patch_configmap(w.namespace, cm, {key: value})
        w.log("sidecar-watcher", f"WARN {cm} {key} changed: BYPASS")
        return lambda: w.cluster.replace_configmap(w.namespace, cm, before)
    return inject


KINDS: dict[str, Kind] = {
    "adapter_failure": Kind(
        params={"failure_mode": _one_of("fail_open", "fail_closed"),
                "variant": _one_of("scaled_to_zero", "killed", "errors", "slow")},
        inject=_adapter, effect=_adapter_effect,
        proven=lambda w: (w.ready("policy-adapter") == 0,
                          f"policy-adapter ready replicas {w.ready('policy-adapter')}"),
        terms=("adapter",)),
    "certificate_corruption": Kind(
        params={"mode": _one_of("flip", "truncate", "wrong_key", "expired", "other_ca"),
                "fraction": _fraction},
        inject=_certs,
        effect=lambda p: Effect(("CertificateVerificationFailures", "BridgeGuaranteeFailure"),
                                Severity.SEV1,
                                ("certificate verification failures 100% > 1%",)),
        proven=lambda w: (not w.trust_bundle_ok(), "trust bundle in fabric-certs is corrupt"),
        terms=("certificate", "cert", "trust bundle")),
    "high_reject_rate": Kind(
        params={"multiplier": _positive, "baseline_rate": lambda v: float(v) >= 0},
        inject=_reject, effect=_reject_effect,
        proven=lambda w: (w.reject_multiplier > 1.5, f"reject rate {w.reject_multiplier:g}x"),
        terms=("reject",)),
    "enforcement_disabled": Kind(
        params={}, inject=_patch("policy-config", "enforcement_mode", "disabled"),
        effect=lambda p: Effect(("PolicyEnforcementDisabled",), Severity.SEV1,
                                ("enforcement_mode is disabled: policy enforcement off",)),
        proven=lambda w: (w.config().get("enforcement_mode") == "disabled",
                          f"enforcement_mode={w.config().get('enforcement_mode')}"),
        terms=("enforcement", "config")),
    "dfa_tampering": Kind(
        params={"mode": _one_of("sha_mismatch", "schema_invalid")},
        inject=_patch("dfa-artifact", "dfa.json", '{"states": ["tampered"]}'),
        # The fabric refuses a tampered artifact and keeps the last good automaton, but
        # reports dfa_integrity_ok 0: a bridge guarantee failure in the table (SEV-1).
        effect=lambda p: Effect(("DfaIntegrityFailure", "BridgeGuaranteeFailure",
                                 "DfaArtifactRefused"), Severity.SEV1,
                                ("dfa_integrity_ok=0: bridge guarantee failure",
                                 "dfa_load_failures_total rising: DFA artifact refused")),
        proven=lambda w: (not w.dfa_ok(), "dfa-artifact sha256 mismatch"),
        terms=("dfa", "automaton")),
}


class FakeFault:
    def __init__(self, world: FakeWorld, name: str, kind: Kind) -> None:
        self._w = world
        self.name = name
        self._kind = kind
        self._undo: Callable[[], None] | None = None
        self._active: ActiveFault | None = None
        self._log: list[JournalActivity] = []

    def validate(self, params: Params) -> None:
        for key, value in params.items():
            ok = self._kind.params.get(key)
            if ok is None:
                known = ", ".join(sorted(self._kind.params)) or "none"
                raise InvalidInput(f"fault {self.name}: unknown parameter {key!r} "
                                   f"(known: {known})")
            if not ok(value):
                raise InvalidInput(f"fault {self.name}: {key}={value!r} is out of range")

    def inject(self, params: Params) -> None:
        w = self._w
        self._undo = self._kind.inject(w, params)
        eff = self._kind.effect(params)
        now = w.clock.now()
        self._active = ActiveFault(self.name, eff.alerts, eff.severity, eff.reasons, now)
        w.faults.append(self._active)
        for alert in eff.alerts:
            if alert in w.silenced:
                continue
            fire = now + dt.timedelta(seconds=w.detect_delay_s)
            w.at(fire + dt.timedelta(seconds=w.notify_delay_s),
                 functools.partial(self._notify, alert, fire))
        w.clock.sleep(0.2)
        self._log.append(JournalActivity(name=f"inject-{self.name}", kind="action",
                                         status="succeeded", duration_s=0.2))

    def _notify(self, alert: str, fired: dt.datetime) -> None:
        if self._active is None or self._active.healed is not None:
            return  # resolved before Alertmanager's group_wait: no notification
        self._w.notify(Channel.ALERTMANAGER, f"[FIRING:1] {alert}", (alert,),
                       when=fired + dt.timedelta(seconds=self._w.notify_delay_s))

    def prove(self) -> FaultObservation:
        w = self._w
        if self._active and (w.clock.now() - self._active.injected).total_seconds() < \
                w.prove_delay_s:
            return FaultObservation(False, "not yet observed")
        proven, detail = self._kind.proven(w)
        self._log.append(JournalActivity(name=f"prove-{self.name}", kind="probe",
                                         status="succeeded" if proven else "failed",
                                         duration_s=0.0, output=detail))
        return FaultObservation(proven, detail)

    def rollback(self) -> None:
        if self._undo is None or self._active is None or self._active.healed is not None:
            return
        if self.name in self._w.sticky_faults:
            self._log.append(JournalActivity(name=f"rollback-{self.name}", kind="action",
                                             status="succeeded", duration_s=0.0,
                                             output="rolled back (but the damage stays)"))
            self._active.healed = self._w.clock.now()
            return
        self._undo()
        self._active.healed = self._w.clock.now()
        self._log.append(JournalActivity(name=f"rollback-{self.name}", kind="action",
                                         status="succeeded", duration_s=0.0))

    def root_cause_terms(self) -> Sequence[str]:
        return self._kind.terms

    def journal(self) -> ChaosJournal | None:
        acts = tuple(a for a in self._log if not a.name.startswith("rollback"))
        rbs = tuple(a for a in self._log if a.name.startswith("rollback"))
        return ChaosJournal(experiment=self.name, status="completed",
                            steady_state_met=True, activities=acts, rollbacks=rbs)


class FakeFaultCatalog:
    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def names(self) -> Sequence[str]:
        return sorted(KINDS)

    def create(self, name: str) -> FakeFault:
        kind = KINDS.get(name)
        if kind is None:
            raise InvalidInput(f"unknown fault {name!r} (known: {', '.join(sorted(KINDS))})")
        return FakeFault(self._w, name, kind)
