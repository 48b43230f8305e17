"""The Gherkin step library and its fixtures (registered by :mod:`pfdrill.bdd.plugin`).

Write features with these steps; override ``pfdrill_environment`` in your
``conftest.py`` to point them at your cluster (the default builds the real
environment from pfdrill's config and the running stack)::

    Background:
      Given the drill cluster is available
      And the reference fabric is deployed
      And the fabric is in steady state

    Scenario: Enforcement disabled by drift
      When the fault "enforcement_disabled" is injected
      Then an alert "PolicyEnforcementDisabled" fires within 45 seconds
      And the incident is classified as SEV-1
      When the runbook section "Incident Response Actions / Immediate Mitigation" is executed
      Then the deployment "sidecar-watcher" has 0 replicas within 30 seconds
      And the sink holds a "security" notification within 10 seconds
      When the fault is rolled back
      And the runbook section "Recovery Procedures / Policy Enforcement Recovery" is executed
      Then the steady state is restored within 120 seconds
      And all success criteria are met

Every step runs through the same drill session as ``pfdrill drill run``:
phases, SLA budgets, evidence and restore (always, on teardown).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pytest_bdd import parsers, step

from pfdrill.bdd.scenario import ScenarioDrill, StepFailed
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.observer import BaseObserver, DrillObserver
from pfdrill.drill.signals import interrupts_raise
from pfdrill.drill.suite import new_run_id
from pfdrill.errors import InvalidInput, ObjectNotFound
from pfdrill.model.drill import CheckKind, CheckSpec, DrillSpec, Op, ParamValue
from pfdrill.model.result import DrillResult
from pfdrill.model.severity import Severity
from pfdrill.model.sla import TimingProfile
from pfdrill.model.timeline import PhaseRecord

SECONDS = r"(?P<seconds>\d+(?:\.\d+)?) seconds?"


# --- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pfdrill_profile(pytestconfig: pytest.Config) -> TimingProfile:
    return TimingProfile(pytestconfig.getoption("--pfdrill-profile"))


@pytest.fixture(scope="session")
def pfdrill_environment(pfdrill_profile: TimingProfile) -> Iterator[DrillEnvironment]:
    """The real drill environment; override this fixture to drill somewhere else."""
    from pfdrill.drill import wiring

    env = wiring.StackEnvironmentFactory.from_options().build(pfdrill_profile)
    try:
        yield env
    finally:
        env.close()


@pytest.fixture(scope="session")
def pfdrill_runbook(pytestconfig: pytest.Config) -> str:
    path = Path(str(pytestconfig.getini("pfdrill_runbook")))
    return str(path if path.is_absolute() else pytestconfig.rootpath / path)


@pytest.fixture(scope="session")
def pfdrill_run_id() -> str:
    return new_run_id()


@pytest.fixture(scope="session")
def pfdrill_report_observers(pytestconfig: pytest.Config,
                             pfdrill_run_id: str) -> list[DrillObserver]:
    """Observers every scenario drill gets besides the pytest bridge (report writers)."""
    out = pytestconfig.getoption("--pfdrill-reports")
    if not out:
        return []
    from pfdrill.report.writer import ReportWriter

    return [ReportWriter(Path(out) / pfdrill_run_id, run_id=pfdrill_run_id, suite="features",
                         file=str(pytestconfig.rootpath / "features"))]


class PytestBridge(BaseObserver):
    """Puts each phase's verdict into the test's properties (JUnit) and its report."""

    def __init__(self, item: pytest.Item) -> None:
        self.item = item

    def phase_completed(self, spec: DrillSpec, record: PhaseRecord) -> None:
        judged = "" if record.measured_s is None else f"{record.measured_s:.1f}s"
        self.item.user_properties.append(
            (f"pfdrill.{record.phase.value}",
             f"{record.status.value} {judged}/{record.budget_s:g}s {record.reason}".strip()))

    def finished(self, result: DrillResult) -> None:
        self.item.user_properties.append(("pfdrill.verdict", result.headline()))
        for key, value in result.measures.items():
            if value is not None:
                self.item.user_properties.append((f"pfdrill.{key}", f"{value:.3f}"))
        self.item.add_report_section("teardown", "pfdrill drill", "\n".join(
            f"{e.at:8.2f}s {e.kind.value:<16} {e.message}" for e in result.timeline))


def _scenario_name(request: pytest.FixtureRequest) -> str:
    """The scenario's own name, with an outline's example values filled in."""
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry as registry
    except ImportError:  # pytest-bdd moved it: fall back to the test's name
        return str(request.node.name)
    function = getattr(request.node, "function", None)
    template = registry.get(function) if function is not None else None
    if template is None:
        return str(request.node.name)
    example = (request.getfixturevalue("_pytest_bdd_example")
               if "_pytest_bdd_example" in request.fixturenames else {})
    return str(template.render(example).name)


@pytest.fixture
def pfdrill_drill(request: pytest.FixtureRequest, pfdrill_environment: DrillEnvironment,
          pfdrill_runbook: str, pfdrill_run_id: str,
          pfdrill_report_observers: list[DrillObserver]) -> Iterator[ScenarioDrill]:
    """The scenario's drill; restored on teardown whatever happened (SIGTERM included)."""
    observers = [PytestBridge(request.node), *pfdrill_report_observers]
    sd = ScenarioDrill(_scenario_name(request), pfdrill_environment, run_id=pfdrill_run_id,
                       runbook=pfdrill_runbook, observers=observers)
    try:
        with interrupts_raise():
            yield sd
    finally:
        sd.close()


# --- parameters ---------------------------------------------------------------------------
def parse_params(text: str | None) -> dict[str, ParamValue]:
    """``failure_mode=fail_open, fraction=0.3 and variant=killed`` → typed values."""
    out: dict[str, ParamValue] = {}
    if not text:
        return out
    for part in filter(None, (p.strip() for p in re.split(r",|\band\b", text))):
        key, eq, raw = part.partition("=")
        if not eq or not key.strip():
            raise InvalidInput(f"fault parameter {part!r} is not key=value")
        value = yaml.safe_load(raw.strip().strip('"'))
        if not isinstance(value, (str, int, float, bool)):
            value = raw.strip()
        out[key.strip()] = value
    return out


# --- Background --------------------------------------------------------------------------
@step("the drill cluster is available")
def cluster_available(pfdrill_drill: ScenarioDrill) -> None:
    env = pfdrill_drill.env
    try:
        env.cluster.namespace_labels(env.namespace)
    except ObjectNotFound:
        raise StepFailed(f"namespace {env.namespace!r} does not exist in context "
                         f"{env.cluster.context!r}") from None


@step("the reference fabric is deployed")
def fabric_deployed(pfdrill_drill: ScenarioDrill) -> None:
    env = pfdrill_drill.env
    for name in ("sidecar-watcher", "policy-adapter"):
        try:
            dep = env.cluster.get_deployment(env.namespace, name)
        except ObjectNotFound:
            raise StepFailed(f"Deployment {env.namespace}/{name} is not deployed") from None
        if dep.ready < 1:
            raise StepFailed(f"Deployment {name} has no ready replica ({dep.ready}/"
                             f"{dep.replicas})")


@step("the fabric is in steady state")
def steady_state(pfdrill_drill: ScenarioDrill) -> None:
    pfdrill_drill.steady_state()


# --- fault, detection, classification ----------------------------------------------------
@step(parsers.re(r'the fault "(?P<fault>[^"]+)" is injected(?: with (?P<params>.+))?$'))
def inject(pfdrill_drill: ScenarioDrill, fault: str, params: str | None) -> None:
    pfdrill_drill.inject(fault, parse_params(params))


@step(parsers.re(r'(?:an alert|one of the alerts) "(?P<alerts>[^"]+)" fires within '
                 + SECONDS + "$"))
def alert_fires(pfdrill_drill: ScenarioDrill, alerts: str, seconds: str) -> None:
    pfdrill_drill.alert_fires([a.strip() for a in alerts.split(",") if a.strip()], float(seconds))


@step(parsers.re(r"the incident is classified as (?P<severity>SEV-?[1-4]|none)"
                 r"(?: within (?P<seconds>\d+(?:\.\d+)?) seconds?)?$"))
def classified(pfdrill_drill: ScenarioDrill, severity: str, seconds: str | None) -> None:
    pfdrill_drill.classified_as(Severity.parse(severity), float(seconds) if seconds else None)


# --- response ------------------------------------------------------------------------------
@step(parsers.re(r'the runbook section "(?P<section>[^"]+)" is executed$'))
def run_section(pfdrill_drill: ScenarioDrill, section: str) -> None:
    pfdrill_drill.run_section(section)


@step("the fault is rolled back")
def rolled_back(pfdrill_drill: ScenarioDrill) -> None:
    pfdrill_drill.rollback()


# --- outcome checks: Then … within N seconds -----------------------------------------------
@step(parsers.re(r'the ConfigMap "(?P<name>[^"]+)" has "(?P<key>[^"]+)" set to '
                 r'"(?P<value>[^"]*)" within ' + SECONDS + "$"))
def configmap_value(pfdrill_drill: ScenarioDrill, name: str, key: str, value: str, seconds: str) -> None:
    pfdrill_drill.outcome(CheckSpec(CheckKind.CONFIGMAP, name, key, Op.EQ, value), float(seconds))


@step(parsers.re(r'the deployment "(?P<name>[^"]+)" has (?P<count>\d+) (?P<ready>ready )?'
                 r"replicas? within " + SECONDS + "$"))
def replicas(pfdrill_drill: ScenarioDrill, name: str, count: str, ready: str | None,
             seconds: str) -> None:
    pfdrill_drill.outcome(CheckSpec(CheckKind.REPLICAS, name, "ready" if ready else "desired", Op.EQ,
                            count), float(seconds))


@step(parsers.re(r'the sink holds (?:a|an|(?P<count>\d+)) "(?P<channel>[^"]+)" '
                 r'notifications?(?: matching "(?P<pattern>[^"]+)")? within ' + SECONDS + "$"))
def notification(pfdrill_drill: ScenarioDrill, count: str | None, channel: str, pattern: str | None,
                 seconds: str) -> None:
    pfdrill_drill.outcome(CheckSpec(CheckKind.NOTIFICATION, channel, pattern or "", Op.GE,
                            count or "1"), float(seconds))


@step(parsers.re(r'the logs of "(?P<selector>[^"]+)" contain "(?P<pattern>[^"]+)" within '
                 + SECONDS + "$"))
def log_line(pfdrill_drill: ScenarioDrill, selector: str, pattern: str, seconds: str) -> None:
    pfdrill_drill.outcome(CheckSpec(CheckKind.LOG, selector, "", Op.CONTAINS, pattern), float(seconds))


_METRIC_OPS = {None: Op.EQ, "above": Op.GT, "below": Op.LT, "at least": Op.GE,
               "at most": Op.LE}


# PromQL has quotes of its own: write them as \" (or use PromQL's single quotes).
@step(parsers.re(r'the metric "(?P<query>(?:[^"\\]|\\.)+)" is '
                 r"(?:(?P<op>above|below|at least|at most) )?"
                 r"(?P<value>-?\d+(?:\.\d+)?) within " + SECONDS + "$"))
def metric(pfdrill_drill: ScenarioDrill, query: str, op: str | None, value: str, seconds: str) -> None:
    pfdrill_drill.outcome(CheckSpec(CheckKind.METRIC, query.replace('\\"', '"'), "", _METRIC_OPS[op],
                            value), float(seconds))


@step(parsers.re(r"the steady state is restored within " + SECONDS + "$"))
def steady_restored(pfdrill_drill: ScenarioDrill, seconds: str) -> None:
    pfdrill_drill.outcome(CheckSpec(CheckKind.STEADY_STATE), float(seconds))


# --- success criteria ----------------------------------------------------------------------
@step("all success criteria are met")
def all_criteria(pfdrill_drill: ScenarioDrill) -> None:
    pfdrill_drill.success_criteria()


@step(parsers.re(r'the success criteria "(?P<names>[^"]+)" are met$'))
def some_criteria(pfdrill_drill: ScenarioDrill, names: str) -> None:
    try:
        pfdrill_drill.success_criteria([n.strip() for n in names.split(",") if n.strip()])
    except ValueError as exc:
        raise InvalidInput(f"unknown success criterion: {exc}") from None
