"""Inject the drill's fault and prove it took effect; roll it back when the root cause is "fixed"."""

from __future__ import annotations

from pfdrill.drill.session import DrillSession, Outcome
from pfdrill.faults.registry import baseline_params
from pfdrill.model.drill import FaultSpec
from pfdrill.model.evidence import FaultProof
from pfdrill.model.timeline import EventKind


def inject(s: DrillSession, fault: FaultSpec) -> Outcome:
    driver = s.env.faults.create(fault.name)
    # A fault aiming at a multiple of the steady state aims at the baseline this drill
    # published (what the alert rules divide by), unless the drill file says otherwise.
    hints = baseline_params(fault.name, {sig.name: sig.value for sig in s.baseline})
    params = {**hints, **fault.params}
    driver.validate(params)
    s.fault = driver
    s.fault_active = True  # before inject: a half-done injection is still rolled back
    s.inject_started_wall = s.clock.now()
    if hints:
        s.note(EventKind.NOTE, "aiming at the published baseline: " + ", ".join(
            f"{k}={float(v):.4g}" for k, v in sorted(hints.items())))
    driver.inject(params)
    s.injected_at = s.elapsed()
    s.injected_wall = s.clock.now()
    s.note(EventKind.INJECTED, f"fault {fault.describe()} injected")
    obs, proven = s.poll(driver.prove, lambda o: o.proven, s.remaining())
    s.proof = FaultProof(fault=fault.name, params=fault.string_params(),
                            injected_at=round(s.injected_at, 3), proven=proven,
                            proven_at=round(s.elapsed(), 3) if proven else None,
                            detail=obs.detail)
    if not proven:
        return Outcome.failed(f"fault {fault.name} was not observed to take effect: "
                              f"{obs.detail}")
    s.note(EventKind.PROVEN, f"fault in effect: {obs.detail}")
    return Outcome.passed(obs.detail)


# When the last fault in each cluster context was rolled back (monotonic clock of that
# drill's session): the next drill's baseline must not be measured over its aftermath.
LAST_ROLLBACK: dict[str, float] = {}


def rollback_fault(s: DrillSession, why: str) -> None:
    if s.fault is not None and s.fault_active:
        s.fault.rollback()
        s.fault_active = False
        LAST_ROLLBACK[s.env.cluster.context] = s.clock.monotonic()
        s.note(EventKind.ROLLBACK, f"fault rolled back ({why})")
