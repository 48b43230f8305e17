"""Fake faults acting on a :class:`~pfdrill.drill.fake.world.FakeWorld`.

Each kind changes the world the way the real fault changes the fabric (scale
the adapter to zero, put a foreign CA's bundle in place, patch the
ConfigMap...). Everything else is the real code: parameters are validated
and defaulted by the real fault drivers (:data:`pfdrill.faults.registry.DRIVERS`),
root-cause terms are theirs, and what the fault sets off — the alerts and the
severity — is judged from the simulated fabric's signals by the real classifier,
threshold table and alert rules (:meth:`FakeWorld.firing`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence

from pfdrill.drill.fake.world import ActiveFault, FakeWorld
from pfdrill.errors import InvalidInput
from pfdrill.fabric import certs
from pfdrill.fabric import dfa as dfa_mod
from pfdrill.fabric.authority import Authority
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.registry import DRIVERS
from pfdrill.model.detection import Channel
from pfdrill.model.drill import ParamValue
from pfdrill.model.evidence import ChaosJournal, JournalActivity
from pfdrill.model.fabric import FABRIC
from pfdrill.model.fault import FaultObservation

Params = Mapping[str, ParamValue]


@dataclasses.dataclass(frozen=True)
class Kind:
    inject: Callable[[FakeWorld, Params], Callable[[], None]]  # returns its own undo
    proven: Callable[[FakeWorld], tuple[bool, str]]


def _adapter(w: FakeWorld, p: Params) -> Callable[[], None]:
    before = w.config()
    w.cluster.patch_configmap(w.namespace, FABRIC.policy_config,
                              {"adapter_failure_mode": str(p["failure_mode"])})
    w.cluster.scale_deployment(w.namespace, FABRIC.adapter, 0)
    w.log(FABRIC.watcher, "ERROR policy adapter unreachable: connect refused")

    def undo() -> None:
        w.cluster.scale_deployment(w.namespace, FABRIC.adapter, 1)
        w.cluster.replace_configmap(w.namespace, FABRIC.policy_config, before)
    return undo


def _certs(w: FakeWorld, p: Params) -> Callable[[], None]:
    before = w.cluster.get_secret(w.namespace, FABRIC.certs_secret)
    # A well-formed bundle of another CA: every certificate stops verifying.
    foreign = Authority.generate().bundle().to_json().encode()
    w.cluster.replace_secret(w.namespace, FABRIC.certs_secret, {certs.BUNDLE_KEY: foreign})
    w.log(FABRIC.watcher, "ERROR certificate verification failed: UNAUTHORIZED")
    return lambda: w.cluster.replace_secret(w.namespace, FABRIC.certs_secret, before)


def _reject(w: FakeWorld, p: Params) -> Callable[[], None]:
    w.reject_multiplier = float(p["multiplier"])
    w.log(FABRIC.watcher, "REJECT permit denied: POLICY_VIOLATION")

    def undo() -> None:
        w.reject_multiplier = 1.0
    return undo


def _patch(cm: str, key: str, value: str) -> Callable[[FakeWorld, Params], Callable[[], None]]:
    def inject(w: FakeWorld, p: Params) -> Callable[[], None]:
        before = w.cluster.get_configmap(w.namespace, cm)
        w.cluster.patch_configmap(w.namespace, cm, {key: value})
        w.log("sidecar-watcher", f"WARN {cm} {key} changed: BYPASS")
        return lambda: w.cluster.replace_configmap(w.namespace, cm, before)
    return inject


KINDS: dict[FaultKind, Kind] = {
    FaultKind.ADAPTER_FAILURE: Kind(
        inject=_adapter,
        proven=lambda w: (w.ready(FABRIC.adapter) == 0,
                          f"policy-adapter ready replicas {w.ready('policy-adapter')}")),
    FaultKind.CERTIFICATE_CORRUPTION: Kind(
        inject=_certs,
        proven=lambda w: (not w.trust_bundle_ok(), "trust bundle in fabric-certs is corrupt")),
    FaultKind.HIGH_REJECT_RATE: Kind(
        inject=_reject,
        proven=lambda w: (w.reject_multiplier > 1.5, f"reject rate {w.reject_multiplier:g}x")),
    FaultKind.ENFORCEMENT_DISABLED: Kind(
        inject=_patch(FABRIC.policy_config, "enforcement_mode", "disabled"),
        proven=lambda w: (w.config().get("enforcement_mode") == "disabled",
                          f"enforcement_mode={w.config().get('enforcement_mode')}")),
    # The fabric refuses a tampered artifact and keeps the last good automaton, but
    # reports dfa_integrity_ok 0: a bridge guarantee failure in the table (SEV-1).
    FaultKind.DFA_TAMPERING: Kind(
        inject=_patch(FABRIC.dfa_artifact, dfa_mod.SHA_KEY, "0" * 64),
        proven=lambda w: (not w.dfa_ok(), "dfa-artifact sha256 mismatch")),
}


class FakeFault:
    def __init__(self, world: FakeWorld, kind: FaultKind) -> None:
        self._w = world
        self.name = kind.value
        self._driver = DRIVERS[kind]
        self._kind = KINDS[kind]
        self._undo: Callable[[], None] | None = None
        self._active: ActiveFault | None = None
        self._log: list[JournalActivity] = []

    def validate(self, params: Params) -> None:
        self._driver.validate(params)

    def inject(self, params: Params) -> None:
        w = self._w
        self._undo = self._kind.inject(w, self._driver.validate(params))
        firing = w.firing()
        now = w.clock.now()
        severity = w.classification().severity
        self._active = ActiveFault(self.name, tuple(a for a, _ in firing), severity,
                                   tuple(r.describe() for r in w.classification().reasons), now)
        w.faults.append(self._active)
        for alert, _ in firing:
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
        return self._driver.terms

    def journal(self) -> ChaosJournal | None:
        acts = tuple(a for a in self._log if not a.name.startswith("rollback"))
        rbs = tuple(a for a in self._log if a.name.startswith("rollback"))
        return ChaosJournal(experiment=self.name, status="completed",
                            steady_state_met=True, activities=acts, rollbacks=rbs)


class FakeFaultCatalog:
    """The faults the fake world can simulate; names and parameters as the real catalog's."""

    def __init__(self, world: FakeWorld) -> None:
        self._w = world

    def names(self) -> Sequence[str]:
        return sorted(k.value for k in KINDS)

    def create(self, name: str) -> FakeFault:
        kind = FaultKind.parse(name)  # an unknown name is refused as the real catalog does
        if kind not in KINDS:
            raise InvalidInput(f"fault {name!r} is not simulated by the fake world "
                               f"(simulated: {', '.join(self.names())})")
        return FakeFault(self._w, kind)
