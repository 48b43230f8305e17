"""What a drill file asks for: suites of drills, each a fault, expectations and budgets.

These records are the validated form of ``drills/*.yaml``
(:mod:`pfdrill.drill.suitefile` builds them); the engine never sees raw YAML.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable

from pfdrill.model.codec import Record
from pfdrill.model.severity import Severity
from pfdrill.model.sla import SlaBudgets, TimingProfile

ParamValue = str | int | float | bool


@dataclasses.dataclass(frozen=True)
class SourceRef(Record):
    """Where a record came from, for error messages: ``drills/weekly.yaml:12``."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclasses.dataclass(frozen=True)
class FaultSpec(Record):
    name: str
    params: dict[str, ParamValue] = dataclasses.field(default_factory=dict)

    def describe(self) -> str:
        if not self.params:
            return self.name
        inner = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.name}({inner})"

    def string_params(self) -> dict[str, str]:
        return {k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in sorted(self.params.items())}


class CheckKind(enum.Enum):
    """Outcome checks a drill (or a Gherkin step) can wait for."""

    CONFIGMAP = "configmap"  # a key of a ConfigMap
    REPLICAS = "replicas"  # a Deployment's desired/ready replicas
    NOTIFICATION = "notification"  # the sink received a notification on a channel
    LOG = "log"  # a log line matching a pattern, from pods matching a selector
    METRIC = "metric"  # a PromQL instant query compared with a number
    STEADY_STATE = "steady_state"  # the steady-state probes all hold


class Op(enum.Enum):
    EQ = "=="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    CONTAINS = "contains"


@dataclasses.dataclass(frozen=True)
class CheckSpec(Record):
    """One outcome check: ``kind`` names the thing, ``target``/``key`` find it, ``op value`` judges it.

    configmap: target=ConfigMap name, key=data key; replicas: target=Deployment,
    key=``desired`` or ``ready``; notification: target=channel, op/value compare the
    count (default ``>= 1``); log: target=label selector, value=regular expression;
    metric: target=PromQL; steady_state: nothing.
    """

    kind: CheckKind
    target: str = ""
    key: str = ""
    op: Op = Op.EQ
    value: str = ""

    def describe(self) -> str:
        return _DESCRIBE[self.kind](self)


_DESCRIBE: dict[CheckKind, Callable[[CheckSpec], str]] = {
    CheckKind.CONFIGMAP: lambda c: f"ConfigMap {c.target} {c.key} {c.op.value} {c.value!r}",
    CheckKind.REPLICAS: lambda c: f"Deployment {c.target} {c.key or 'desired'} replicas "
                                  f"{c.op.value} {c.value}",
    CheckKind.NOTIFICATION: lambda c: f"{c.target} notifications {c.op.value} {c.value}",
    CheckKind.LOG: lambda c: f"logs of {c.target} contain /{c.value}/",
    CheckKind.METRIC: lambda c: f"{c.target} {c.op.value} {c.value}",
    CheckKind.STEADY_STATE: lambda c: "steady state holds",
}


@dataclasses.dataclass(frozen=True)
class RunbookPlan(Record):
    """Which runbook sections a drill executes, by phase."""

    path: str
    respond: tuple[str, ...] = ()  # after classification: mitigation
    recover: tuple[str, ...] = ()  # after the root cause is fixed (fault rolled back)
    follow_up: tuple[str, ...] = ()  # before success criteria: documentation, post-mortem, comms


@dataclasses.dataclass(frozen=True)
class MetricQuery(Record):
    """A metric to chart around the injection."""

    name: str
    query: str


@dataclasses.dataclass(frozen=True)
class DrillSpec(Record):
    name: str
    fault: FaultSpec
    expected_severity: Severity
    profile: TimingProfile
    sla: SlaBudgets
    expected_alerts: tuple[str, ...] = ()
    description: str = ""
    scenario: str = ""  # the feature/scenario or chaostoolkit experiment this drill mirrors
    runbook: RunbookPlan | None = None
    mitigation: tuple[CheckSpec, ...] = ()
    recovery: tuple[CheckSpec, ...] = ()
    criteria: tuple[str, ...] = ()
    metrics: tuple[MetricQuery, ...] = ()
    source: SourceRef | None = None


@dataclasses.dataclass(frozen=True)
class SuiteSpec(Record):
    name: str
    file: str
    drills: tuple[DrillSpec, ...]
    description: str = ""

    def only(self, names: tuple[str, ...]) -> SuiteSpec:
        """The suite restricted to ``names`` (in the suite's order)."""
        return dataclasses.replace(self, drills=tuple(d for d in self.drills if d.name in names))
