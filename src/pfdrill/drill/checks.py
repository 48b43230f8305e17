"""Outcome checks: ConfigMap values, replicas, notifications, log lines, metrics, steady state.

Each kind has a ``validate`` (bad input, before anything runs) and an
``observe`` (read the world once); :func:`wait` polls a set of checks until
all hold or the time is up. Used for "verify mitigation", recovery and the
Gherkin ``Then … within N seconds`` steps alike. Kinds are found through
:data:`KINDS`, keyed by :class:`~pfdrill.model.drill.CheckKind`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Sequence

from pfdrill.drill.environment import DrillEnvironment
from pfdrill.errors import InvalidInput, ObjectNotFound
from pfdrill.model.detection import Channel
from pfdrill.model.drill import CheckKind, CheckSpec, Op


@dataclasses.dataclass(frozen=True)
class Observation:
    ok: bool
    observed: str


@dataclasses.dataclass(frozen=True)
class CheckKindImpl:
    validate: Callable[[CheckSpec], None]
    observe: Callable[[CheckSpec, DrillEnvironment, dt.datetime], Observation]


def _compare(op: Op, observed: float | str, expected: str) -> bool:
    if op is Op.CONTAINS:
        return expected in str(observed)
    if isinstance(observed, str):
        return {Op.EQ: observed == expected, Op.NE: observed != expected}.get(op, False)
    want = float(expected)
    return {
        Op.EQ: abs(observed - want) < 1e-9, Op.NE: abs(observed - want) >= 1e-9,
        Op.GT: observed > want, Op.GE: observed >= want,
        Op.LT: observed < want, Op.LE: observed <= want,
    }[op]


def _need(spec: CheckSpec, *fields: str) -> None:
    for name in fields:
        if not getattr(spec, name):
            raise InvalidInput(f"{spec.kind.value} check needs a {name}")


def _number(spec: CheckSpec) -> None:
    try:
        float(spec.value)
    except ValueError:
        raise InvalidInput(f"{spec.kind.value} check: {spec.value!r} is not a number") from None


# --- configmap ----------------------------------------------------------------------
def _configmap_validate(spec: CheckSpec) -> None:
    _need(spec, "target", "key")
    if spec.op not in (Op.EQ, Op.NE, Op.CONTAINS):
        raise InvalidInput(f"configmap check: operator {spec.op.value} does not apply to text")


def _configmap_observe(spec: CheckSpec, env: DrillEnvironment, since: dt.datetime) -> Observation:
    try:
        data = env.cluster.get_configmap(env.namespace, spec.target)
    except ObjectNotFound:
        return Observation(False, f"ConfigMap {spec.target} not found")
    if spec.key not in data:
        return Observation(spec.op is Op.NE, f"{spec.key} not set")
    value = data[spec.key]
    return Observation(_compare(spec.op, value, spec.value), repr(value))


# --- replicas -----------------------------------------------------------------------
def _replicas_validate(spec: CheckSpec) -> None:
    _need(spec, "target")
    _number(spec)
    if spec.key not in ("", "desired", "ready"):
        raise InvalidInput(f"replicas check: 'of' must be desired or ready, not {spec.key!r}")


def _replicas_observe(spec: CheckSpec, env: DrillEnvironment, since: dt.datetime) -> Observation:
    try:
        dep = env.cluster.get_deployment(env.namespace, spec.target)
    except ObjectNotFound:
        return Observation(False, f"Deployment {spec.target} not found")
    value = dep.ready if spec.key == "ready" else dep.replicas
    desc = f"desired {dep.replicas}, ready {dep.ready}"
    return Observation(_compare(spec.op, float(value), spec.value), desc)


# --- notification -------------------------------------------------------------------
def _notification_validate(spec: CheckSpec) -> None:
    _need(spec, "target")
    try:
        Channel(spec.target)
    except ValueError:
        names = ", ".join(c.value for c in Channel)
        raise InvalidInput(f"notification check: unknown channel {spec.target!r} "
                           f"(one of {names})") from None
    _number(spec)


def _notification_observe(spec: CheckSpec, env: DrillEnvironment,
                          since: dt.datetime) -> Observation:
    channel = Channel(spec.target)
    got = [n for n in env.notifications.notifications(since) if n.channel is channel]
    pattern = spec.key
    if pattern:
        got = [n for n in got if re.search(pattern, n.text)]
    return Observation(_compare(spec.op, float(len(got)), spec.value),
                       f"{len(got)} {channel.value} notification(s)")


# --- log ----------------------------------------------------------------------------
def _log_validate(spec: CheckSpec) -> None:
    _need(spec, "target", "value")
    try:
        re.compile(spec.value)
    except re.error as exc:
        raise InvalidInput(f"log check: {spec.value!r} is not a regular expression: {exc}") from None


def _log_observe(spec: CheckSpec, env: DrillEnvironment, since: dt.datetime) -> Observation:
    pattern = re.compile(spec.value)
    lines = env.logs.lines(env.namespace, spec.target, since)
    hits = [ln for ln in lines if pattern.search(ln)]
    sample = f": {hits[0].strip()[:160]}" if hits else ""
    return Observation(bool(hits), f"{len(hits)} of {len(lines)} line(s) match{sample}")


# --- metric -------------------------------------------------------------------------
def _metric_validate(spec: CheckSpec) -> None:
    _need(spec, "target")
    _number(spec)
    if spec.op is Op.CONTAINS:
        raise InvalidInput("metric check: 'contains' does not apply to a number")


def _metric_observe(spec: CheckSpec, env: DrillEnvironment, since: dt.datetime) -> Observation:
    value = env.metrics.instant(spec.target)
    if value is None:
        return Observation(False, "no data")
    return Observation(_compare(spec.op, value, spec.value), f"{value:g}")


# --- steady state -------------------------------------------------------------------
def _steady_validate(spec: CheckSpec) -> None:
    return None


def _steady_observe(spec: CheckSpec, env: DrillEnvironment, since: dt.datetime) -> Observation:
    samples = env.steady_state.check()
    bad = [s for s in samples if not s.ok]
    if not samples:
        return Observation(False, "no steady-state probe reported")
    if bad:
        return Observation(False, "; ".join(f"{s.name}: {s.observed} (want {s.expected})"
                                            for s in bad))
    return Observation(True, f"{len(samples)} probe(s) hold")


KINDS: dict[CheckKind, CheckKindImpl] = {
    CheckKind.CONFIGMAP: CheckKindImpl(_configmap_validate, _configmap_observe),
    CheckKind.REPLICAS: CheckKindImpl(_replicas_validate, _replicas_observe),
    CheckKind.NOTIFICATION: CheckKindImpl(_notification_validate, _notification_observe),
    CheckKind.LOG: CheckKindImpl(_log_validate, _log_observe),
    CheckKind.METRIC: CheckKindImpl(_metric_validate, _metric_observe),
    CheckKind.STEADY_STATE: CheckKindImpl(_steady_validate, _steady_observe),
}


def validate(spec: CheckSpec) -> None:
    KINDS[spec.kind].validate(spec)


def observe(spec: CheckSpec, env: DrillEnvironment, since: dt.datetime) -> Observation:
    return KINDS[spec.kind].observe(spec, env, since)


@dataclasses.dataclass(frozen=True)
class WaitResult:
    ok: bool
    observations: tuple[tuple[CheckSpec, Observation], ...]
    finished_mono: float  # monotonic time of the last observation


def wait(checks: Sequence[CheckSpec], env: DrillEnvironment, *, since: dt.datetime,
         timeout_s: float) -> WaitResult:
    """Poll ``checks`` until all hold at once or ``timeout_s`` has passed (one look at least)."""
    clock = env.clock
    deadline = clock.monotonic() + max(0.0, timeout_s)
    while True:
        obs = tuple((c, observe(c, env, since)) for c in checks)
        now = clock.monotonic()
        if all(o.ok for _, o in obs):
            return WaitResult(True, obs, now)
        if now >= deadline:
            return WaitResult(False, obs, now)
        clock.sleep(min(env.poll_interval_s, deadline - now))
