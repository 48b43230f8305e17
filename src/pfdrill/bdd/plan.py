"""A Gherkin scenario as a drill plan: what each step means, and the whole scenario as a spec.

Every drill step of the step library is one pattern here and one *intent*
(inject this fault, wait for these alerts, run this section, hold this
check...). :func:`spec` reads a scenario's steps before the first one runs and
builds the same :class:`~pfdrill.model.drill.DrillSpec` a drill file entry
would give, so the sequencer, the observers and the reports see the whole
drill from the start; the steps then drive the sequencer with their intents
one phase at a time (:class:`pfdrill.bdd.scenario.ScenarioDrill`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping

from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc
from pfdrill.model.drill import (
    CheckKind,
    CheckSpec,
    DrillSpec,
    FaultSpec,
    Op,
    ParamValue,
    RunbookPlan,
)
from pfdrill.model.severity import Severity
from pfdrill.model.sla import TimingProfile, default_budgets
from pfdrill.model.timeline import Phase

SECONDS = r"(?P<seconds>\d+(?:\.\d+)?) seconds?"


@dataclasses.dataclass(frozen=True)
class Steady:
    """Preflight: the fabric is in steady state (and the drill may start)."""


@dataclasses.dataclass(frozen=True)
class Inject:
    fault: FaultSpec


@dataclasses.dataclass(frozen=True)
class Detect:
    alerts: tuple[str, ...]
    within: float


@dataclasses.dataclass(frozen=True)
class Classify:
    severity: Severity
    within: float | None = None


@dataclasses.dataclass(frozen=True)
class Section:
    name: str


@dataclasses.dataclass(frozen=True)
class Rollback:
    """The root cause is fixed: the fault is taken out; what follows is recovery."""


@dataclasses.dataclass(frozen=True)
class Check:
    check: CheckSpec
    within: float


@dataclasses.dataclass(frozen=True)
class Criteria:
    names: tuple[str, ...]


Intent = Steady | Inject | Detect | Classify | Section | Rollback | Check | Criteria
Groups = Mapping[str, str | None]


def parse_params(text: str | None) -> dict[str, ParamValue]:
    """``failure_mode=fail_open, fraction=0.3 and variant=killed`` → typed values."""
    out: dict[str, ParamValue] = {}
    if not text:
        return out
    for part in filter(None, (p.strip() for p in re.split(r",|\band\b", text))):
        key, eq, raw = part.partition("=")
        if not eq or not key.strip():
            raise InvalidInput(f"fault parameter {part!r} is not key=value")
        try:
            value = yamldoc.loads(raw.strip().strip('"'), "<fault parameter>").root
        except InvalidInput:
            value = raw.strip()
        if not isinstance(value, (str, int, float, bool)):
            value = raw.strip()
        out[key.strip()] = value
    return out


def _g(groups: Groups, key: str) -> str:
    value = groups.get(key)
    if value is None:
        raise InvalidInput(f"step is missing its {key}")
    return value


_METRIC_OPS = {None: Op.EQ, "above": Op.GT, "below": Op.LT, "at least": Op.GE,
               "at most": Op.LE}


def _check(kind: CheckKind, target: str, key: str, op: Op, value: str,
           groups: Groups) -> Check:
    return Check(CheckSpec(kind, target, key, op, value), float(_g(groups, "seconds")))


def _optional_seconds(groups: Groups) -> float | None:
    value = groups.get("seconds")
    return float(value) if value else None


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


@dataclasses.dataclass(frozen=True)
class StepPattern:
    regex: str
    build: Callable[[Groups], Intent]

    def match(self, text: str) -> Intent | None:
        m = re.match(self.regex, text)
        return self.build(m.groupdict()) if m else None


# The drill steps, keyed by the name steps.py registers them under. PromQL has quotes
# of its own: in a metric step write them as \" (or use PromQL's single quotes).
PATTERNS: dict[str, StepPattern] = {
    "steady": StepPattern(r"the fabric is in steady state$", lambda g: Steady()),
    "inject": StepPattern(
        r'the fault "(?P<fault>[^"]+)" is injected(?: with (?P<params>.+))?$',
        lambda g: Inject(FaultSpec(_g(g, "fault"), parse_params(g.get("params"))))),
    "alert": StepPattern(
        r'(?:an alert|one of the alerts) "(?P<alerts>[^"]+)" fires within ' + SECONDS + "$",
        lambda g: Detect(_names(_g(g, "alerts")), float(_g(g, "seconds")))),
    "classified": StepPattern(
        r"the incident is classified as (?P<severity>SEV-?[1-4]|none)"
        r"(?: within (?P<seconds>\d+(?:\.\d+)?) seconds?)?$",
        lambda g: Classify(Severity.parse(_g(g, "severity")),
                           _optional_seconds(g))),
    "section": StepPattern(r'the runbook section "(?P<section>[^"]+)" is executed$',
                           lambda g: Section(_g(g, "section"))),
    "rollback": StepPattern(r"the fault is rolled back$", lambda g: Rollback()),
    "configmap": StepPattern(
        r'the ConfigMap "(?P<name>[^"]+)" has "(?P<key>[^"]+)" set to "(?P<value>[^"]*)" '
        r"within " + SECONDS + "$",
        lambda g: _check(CheckKind.CONFIGMAP, _g(g, "name"), _g(g, "key"), Op.EQ,
                         g.get("value") or "", g)),
    "replicas": StepPattern(
        r'the deployment "(?P<name>[^"]+)" has (?P<count>\d+) (?P<ready>ready )?'
        r"replicas? within " + SECONDS + "$",
        lambda g: _check(CheckKind.REPLICAS, _g(g, "name"),
                         "ready" if g.get("ready") else "desired", Op.EQ, _g(g, "count"), g)),
    "notification": StepPattern(
        r'the sink holds (?:a|an|(?P<count>\d+)) "(?P<channel>[^"]+)" '
        r'notifications?(?: matching "(?P<pattern>[^"]+)")? within ' + SECONDS + "$",
        lambda g: _check(CheckKind.NOTIFICATION, _g(g, "channel"), g.get("pattern") or "",
                         Op.GE, g.get("count") or "1", g)),
    "log": StepPattern(
        r'the logs of "(?P<selector>[^"]+)" contain "(?P<pattern>[^"]+)" within '
        + SECONDS + "$",
        lambda g: _check(CheckKind.LOG, _g(g, "selector"), "", Op.CONTAINS,
                         _g(g, "pattern"), g)),
    "metric": StepPattern(
        r'the metric "(?P<query>(?:[^"\\]|\\.)+)" is '
        r"(?:(?P<op>above|below|at least|at most) )?"
        r"(?P<value>-?\d+(?:\.\d+)?) within " + SECONDS + "$",
        lambda g: _check(CheckKind.METRIC, _g(g, "query").replace('\\"', '"'), "",
                         _METRIC_OPS[g.get("op")], _g(g, "value"), g)),
    "steady_restored": StepPattern(
        r"the steady state is restored within " + SECONDS + "$",
        lambda g: _check(CheckKind.STEADY_STATE, "", "", Op.EQ, "", g)),
    "all_criteria": StepPattern(r"all success criteria are met$", lambda g: Criteria(("all",))),
    "some_criteria": StepPattern(r'the success criteria "(?P<names>[^"]+)" are met$',
                                 lambda g: Criteria(_names(_g(g, "names")))),
}


def intent(text: str) -> Intent | None:
    """What a step's text means to a drill, or ``None`` for a step that is not a drill step."""
    for pattern in PATTERNS.values():
        found = pattern.match(text)
        if found is not None:
            return found
    return None


def build(step_name: str, **groups: str | None) -> Intent:
    """The intent of a step from its parsed arguments (what pytest-bdd hands the step)."""
    return PATTERNS[step_name].build(groups)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63] or "scenario"


def spec(name: str, steps: Iterable[str], *, profile: TimingProfile, runbook: str) -> DrillSpec:
    """The drill a scenario describes: its fault, expectations, sections and checks.

    Sections and checks before the fault is rolled back (or before a steady-state
    check) are the response and mitigation; those after it, recovery.
    """
    fault = FaultSpec("none")
    alerts: tuple[str, ...] = ()
    severity = Severity.NONE
    sla: dict[str, float] = {}
    respond: list[str] = []
    recover: list[str] = []
    mitigation: list[CheckSpec] = []
    recovery: list[CheckSpec] = []
    wanted: list[str] = []
    recovering = False
    for text in steps:
        found = intent(text)
        if isinstance(found, Inject):
            fault = found.fault
        elif isinstance(found, Detect):
            alerts, sla[Phase.DETECT.value] = found.alerts, found.within
        elif isinstance(found, Classify):
            severity = found.severity
            if found.within is not None:
                sla[Phase.CLASSIFY.value] = found.within
        elif isinstance(found, Section):
            (recover if recovering else respond).append(found.name)
        elif isinstance(found, Rollback):
            recovering = True
        elif isinstance(found, Check):
            if found.check.kind is CheckKind.STEADY_STATE:
                recovering = True
            else:
                (recovery if recovering else mitigation).append(found.check)
        elif isinstance(found, Criteria):
            wanted.extend(found.names)
    budgets = default_budgets(profile, Severity.SEV1 if severity is Severity.NONE else severity)
    return DrillSpec(
        name=slug(name), description=name, fault=fault, expected_severity=severity,
        profile=profile, sla=budgets.merged(sla), expected_alerts=alerts,
        runbook=RunbookPlan(path=runbook, respond=tuple(respond), recover=tuple(recover)),
        mitigation=tuple(mitigation), recovery=tuple(recovery),
        criteria=tuple(dict.fromkeys(wanted)), scenario=name)
