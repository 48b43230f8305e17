"""Inject the drill's fault and prove it took effect."""

from __future__ import annotations

from pfdrill.drill.context import DrillContext
from pfdrill.faults.registry import baseline_params
from pfdrill.model.drill import FaultSpec
from pfdrill.model.evidence import FaultProof
from pfdrill.model.phases import Injection, Outcome
from pfdrill.model.timeline import EventKind


def inject(c: DrillContext, fault: FaultSpec) -> Injection:
    rec = c.rec
    driver = c.env.faults.create(fault.name)
    # A fault aiming at a multiple of the steady state aims at the baseline this drill
    # published (what the alert rules divide by), unless the drill file says otherwise.
    hints = baseline_params(fault.name, {sig.name: sig.value for sig in c.baseline})
    params = {**hints, **fault.params}
    driver.validate(params)
    c.hold.arm(driver)  # before inject: a half-done injection is still rolled back
    started = rec.elapsed()
    if hints:
        rec.note(EventKind.NOTE, "aiming at the published baseline: " + ", ".join(
            f"{k}={float(v):.4g}" for k, v in sorted(hints.items())))
    driver.inject(params)
    injected = rec.elapsed()
    # Recorded now, not at the end: the SIGKILL of a run mid-proof still knows it injected.
    rec.keep(Injection(Outcome.passed("injected, not yet proven"), started_at=round(started, 3),
                       injected_at=round(injected, 3)))
    rec.note(EventKind.INJECTED, f"fault {fault.describe()} injected")
    obs, proven = c.poll(driver.prove, lambda o: o.proven, rec.remaining())
    proof = FaultProof(fault=fault.name, params=fault.string_params(),
                       injected_at=round(injected, 3), proven=proven,
                       proven_at=round(rec.elapsed(), 3) if proven else None, detail=obs.detail)
    if not proven:
        outcome = Outcome.failed(f"fault {fault.name} was not observed to take effect: "
                                 f"{obs.detail}")
    else:
        rec.note(EventKind.PROVEN, f"fault in effect: {obs.detail}")
        outcome = Outcome.passed(obs.detail)
    return Injection(outcome, started_at=round(started, 3), injected_at=round(injected, 3),
                     proof=proof)
