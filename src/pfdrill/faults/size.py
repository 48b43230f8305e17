"""A fault's size, as the alert rules' rates see it: what each sizable fault does to its signal.

The detection bound (:mod:`pfdrill.detect.bound`) needs the step a fault makes
in the rates behind a windowed signal; ``pfdrill sensitivity`` needs to know
which parameter sets a fault's size, which signal it moves, and what size
puts that signal at a threshold. One :class:`SizeModel` per sizable fault, in
a registry keyed by :class:`FaultKind`; each step is the fault's own
arithmetic (:func:`pfdrill.faults.reject.aim`,
:func:`pfdrill.faults.degradation.added_ms`), applied to the operating point
measured before the fault. A fault without a model (a gauge it flips, a
deployment it scales) has no window to fill: its bound is the pipeline's alone.

Where the operating point lacks a rate, a model assumes the fabric was quiet
there (no traffic of that kind): a fault then looks bigger than it is, which
keeps the bound a lower bound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from pfdrill.detect.bound import OperatingPoint, Rates, Step
from pfdrill.errors import InvalidInput
from pfdrill.faults import degradation, reject
from pfdrill.faults.certificate import Mode as CertMode
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.params import Param
from pfdrill.faults.registry import driver
from pfdrill.model.drill import ParamValue

Params = Mapping[str, ParamValue]
StepFn = Callable[[Params, OperatingPoint], Step | None]


@dataclasses.dataclass(frozen=True)
class SizeModel:
    kind: FaultKind
    param: str  # the parameter that sets the size
    signal: str  # the recording rule whose rates it moves (pfdrill:<signal>)
    step: StepFn  # resolved parameters (defaults filled) + operating point -> the step
    fixed: Mapping[str, ParamValue] = dataclasses.field(default_factory=dict)  # a sized variant
    unit: str = ""

    def spec(self) -> Param:
        found = driver(self.kind).spec.get(self.param)
        assert found is not None, f"{self.kind.value} has no parameter {self.param}"
        return found

    def resolve(self, params: Params) -> dict[str, ParamValue]:
        return driver(self.kind).validate({**self.fixed, **params})

    def step_for(self, params: Params, point: OperatingPoint) -> Step | None:
        return self.step(self.resolve(params), point)

    def value_at(self, size: float, params: Params, point: OperatingPoint) -> float | None:
        """The signal's steady value (``pfdrill:<signal>``) once a fault of ``size`` fills the window."""
        step = self.step_for({**params, self.param: size}, point)
        return None if step is None else step.after.value


def _quiet(point: OperatingPoint, signal: str, unit_den: bool) -> Rates:
    found = point.rates.get(signal)
    if found is not None:
        return found
    return Rates(0.0, 1.0 if unit_den else 0.0)


def _reject(params: Params, point: OperatingPoint) -> Step:
    given = params.get("baseline_rate")
    published = point.baselines.get("reject_rate")
    live = point.rates.get("reject_rate")
    measured = float(given) if given is not None else (
        published if published is not None else (live.num if live is not None else 0.0))
    before = live if live is not None else Rates(measured)
    aimed = reject.aim(float(params["multiplier"]), measured)
    return Step(before, Rates(before.num + aimed.extra, before.den))


def _latency(params: Params, point: OperatingPoint) -> Step | None:
    live = point.rates.get("latency_mean_seconds")
    given = params.get("baseline_latency_ms")
    published = point.baselines.get("latency_mean_seconds")
    if given is not None:
        baseline_ms = float(given)
    elif published is not None:
        baseline_ms = 1000 * published
    elif live is not None and live.den > 0:
        baseline_ms = 1000 * live.value
    else:
        return None
    added_s = degradation.added_ms(baseline_ms, float(params["percent"])) / 1000
    before = live if live is not None and live.den > 0 else Rates(baseline_ms / 1000)
    # every decision takes added_s longer: the sum of durations grows by added_s per count
    return Step(before, Rates(before.num + added_s * before.den, before.den))


def _extra_share(signal: str) -> StepFn:
    """Traffic faults: ``rate`` requests/s more, ``fraction`` of them counted as failures."""
    def step(params: Params, point: OperatingPoint) -> Step | None:
        if signal == "cert_failure_ratio":
            mode = CertMode(str(params["mode"]))
            if mode is CertMode.WRONG_KEY:  # every certificate fails against a foreign bundle
                before = _quiet(point, signal, unit_den=True)
                return Step(before, Rates(before.den, before.den))
            if not mode.in_traffic:
                return None  # a refused bundle keeps the last good one: no ratio moves
        before = _quiet(point, signal, unit_den=False)
        rate, fraction = float(params["rate"]), float(params["fraction"])
        return Step(before, Rates(before.num + fraction * rate, before.den + rate))
    return step


def _adapter_errors(params: Params, point: OperatingPoint) -> Step | None:
    if str(params["variant"]) != "errors":
        return None
    before = _quiet(point, "adapter_error_ratio", unit_den=True)
    # at most one adapter call per decide request, so at most error_rate of them fail
    share = float(params["error_rate"])
    return Step(before, Rates(before.num + share * before.den, before.den))


def _ni(params: Params, point: OperatingPoint) -> Step:
    before = _quiet(point, "ni_reject_rate", unit_den=True)
    return Step(before, Rates(before.num + float(params["rate"]), before.den))


MODELS: dict[FaultKind, SizeModel] = {
    FaultKind.HIGH_REJECT_RATE: SizeModel(FaultKind.HIGH_REJECT_RATE, "multiplier", "reject_rate",
                                          _reject, unit="x"),
    FaultKind.PERFORMANCE_DEGRADATION: SizeModel(
        FaultKind.PERFORMANCE_DEGRADATION, "percent", "latency_mean_seconds", _latency, unit="%"),
    FaultKind.WITNESS_FAILURES: SizeModel(FaultKind.WITNESS_FAILURES, "fraction",
                                          "witness_failure_ratio",
                                          _extra_share("witness_failure_ratio")),
    FaultKind.CERTIFICATE_CORRUPTION: SizeModel(
        FaultKind.CERTIFICATE_CORRUPTION, "fraction", "cert_failure_ratio",
        _extra_share("cert_failure_ratio"), fixed={"mode": CertMode.EXPIRED.value}),
    FaultKind.ADAPTER_FAILURE: SizeModel(FaultKind.ADAPTER_FAILURE, "error_rate",
                                         "adapter_error_ratio", _adapter_errors,
                                         fixed={"variant": "errors"}),
    FaultKind.NI_REJECT_BURST: SizeModel(FaultKind.NI_REJECT_BURST, "rate", "ni_reject_rate", _ni,
                                         unit="/s"),
}


def model(fault: str | FaultKind) -> SizeModel | None:
    kind = fault if isinstance(fault, FaultKind) else FaultKind.parse(fault)
    return MODELS.get(kind)


def step(fault: str, params: Params, point: OperatingPoint) -> tuple[str, Step] | None:
    """``(signal, step)`` the fault makes with these parameters, or ``None`` if it is not sized.

    The drill's own parameters win over the model's ``fixed`` ones (a certificate
    fault in ``wrong_key`` mode is still a certificate fault).
    """
    found = model(fault)
    if found is None:
        return None
    try:
        resolved = driver(found.kind).validate(dict(params))
    except InvalidInput:
        return None
    made = found.step(resolved, point)
    return None if made is None else (found.signal, made)


def for_signal(signal: str) -> list[SizeModel]:
    """The models of faults that move ``pfdrill:<signal>``."""
    return [m for m in MODELS.values() if m.signal == signal]
