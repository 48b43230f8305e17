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

Every step runs through the same drill sequencer as ``pfdrill drill run``:
phases, SLA budgets, evidence and restore (always, on teardown).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_bdd import parsers, step

from pfdrill.bdd import plan
from pfdrill.bdd.scenario import ScenarioDrill, StepFailed
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.interrupts import interrupts_raise
from pfdrill.drill.observer import BaseObserver, DrillObserver
from pfdrill.drill.suite import new_run_id
from pfdrill.errors import InvalidInput, ObjectNotFound
from pfdrill.model.drill import DrillSpec
from pfdrill.model.fabric import FABRIC
from pfdrill.model.result import DrillResult
from pfdrill.model.sla import TimingProfile
from pfdrill.model.timeline import PhaseRecord


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
    """Observers every scenario drill gets besides the pytest bridge: the session's one
    suite record ("features"), writing reports as ``pfdrill drill run`` does."""
    out = pytestconfig.getoption("--pfdrill-reports")
    if not out:
        return []
    from pfdrill.drill.suite import SuiteRecorder
    from pfdrill.report.writer import ReportWriter

    return [SuiteRecorder(run_id=pfdrill_run_id, suite="features",
                          file=str(pytestconfig.rootpath / "features"),
                          writers=[ReportWriter(Path(out) / pfdrill_run_id)])]


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


def _scenario(request: pytest.FixtureRequest) -> tuple[str, list[str]]:
    """The scenario's own name and step texts, with an outline's example values filled in."""
    from pytest_bdd.scenario import scenario_wrapper_template_registry as registry

    function = getattr(request.node, "function", None)
    template = registry.get(function) if function is not None else None
    if template is None:
        raise InvalidInput(f"{request.node.nodeid}: the pfdrill_drill fixture serves "
                           "pytest-bdd scenarios only")
    example = (request.getfixturevalue("_pytest_bdd_example")
               if "_pytest_bdd_example" in request.fixturenames else {})
    rendered = template.render(example)
    return str(rendered.name), [str(st.name) for st in rendered.steps]


@pytest.fixture
def pfdrill_drill(request: pytest.FixtureRequest, pfdrill_environment: DrillEnvironment,
                  pfdrill_runbook: str, pfdrill_run_id: str,
                  pfdrill_report_observers: list[DrillObserver]) -> Iterator[ScenarioDrill]:
    """The scenario's drill; restored on teardown whatever happened (SIGTERM included)."""
    name, texts = _scenario(request)
    spec = plan.spec(name, texts, profile=pfdrill_environment.profile, runbook=pfdrill_runbook)
    observers = [PytestBridge(request.node), *pfdrill_report_observers]
    sd = ScenarioDrill(spec, pfdrill_environment, run_id=pfdrill_run_id, observers=observers)
    try:
        with interrupts_raise():
            yield sd
    finally:
        sd.close()


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
    for name in (FABRIC.watcher, FABRIC.adapter):
        try:
            dep = env.cluster.get_deployment(env.namespace, name)
        except ObjectNotFound:
            raise StepFailed(f"Deployment {env.namespace}/{name} is not deployed") from None
        if dep.ready < 1:
            raise StepFailed(f"Deployment {name} has no ready replica ({dep.ready}/"
                             f"{dep.replicas})")


def _do(drill: ScenarioDrill, step_name: str, **groups: str | None) -> None:
    drill.do(plan.build(step_name, **groups))


@step("the fabric is in steady state")
def steady_state(pfdrill_drill: ScenarioDrill) -> None:
    _do(pfdrill_drill, "steady")


# --- fault, detection, classification ----------------------------------------------------
@step(parsers.re(plan.PATTERNS["inject"].regex))
def inject(pfdrill_drill: ScenarioDrill, fault: str, params: str | None) -> None:
    _do(pfdrill_drill, "inject", fault=fault, params=params)


@step(parsers.re(plan.PATTERNS["alert"].regex))
def alert_fires(pfdrill_drill: ScenarioDrill, alerts: str, seconds: str) -> None:
    _do(pfdrill_drill, "alert", alerts=alerts, seconds=seconds)


@step(parsers.re(plan.PATTERNS["classified"].regex))
def classified(pfdrill_drill: ScenarioDrill, severity: str, seconds: str | None) -> None:
    _do(pfdrill_drill, "classified", severity=severity, seconds=seconds)


# --- response ------------------------------------------------------------------------------
@step(parsers.re(plan.PATTERNS["section"].regex))
def run_section(pfdrill_drill: ScenarioDrill, section: str) -> None:
    _do(pfdrill_drill, "section", section=section)


@step(parsers.re(plan.PATTERNS["rollback"].regex))
def rolled_back(pfdrill_drill: ScenarioDrill) -> None:
    _do(pfdrill_drill, "rollback")


# --- outcome checks: Then … within N seconds -----------------------------------------------
@step(parsers.re(plan.PATTERNS["configmap"].regex))
def configmap_value(pfdrill_drill: ScenarioDrill, name: str, key: str, value: str,
                    seconds: str) -> None:
    _do(pfdrill_drill, "configmap", name=name, key=key, value=value, seconds=seconds)


@step(parsers.re(plan.PATTERNS["replicas"].regex))
def replicas(pfdrill_drill: ScenarioDrill, name: str, count: str, ready: str | None,
             seconds: str) -> None:
    _do(pfdrill_drill, "replicas", name=name, count=count, ready=ready, seconds=seconds)


@step(parsers.re(plan.PATTERNS["notification"].regex))
def notification(pfdrill_drill: ScenarioDrill, count: str | None, channel: str,
                 pattern: str | None, seconds: str) -> None:
    _do(pfdrill_drill, "notification", count=count, channel=channel, pattern=pattern,
        seconds=seconds)


@step(parsers.re(plan.PATTERNS["log"].regex))
def log_line(pfdrill_drill: ScenarioDrill, selector: str, pattern: str, seconds: str) -> None:
    _do(pfdrill_drill, "log", selector=selector, pattern=pattern, seconds=seconds)


@step(parsers.re(plan.PATTERNS["metric"].regex))
def metric(pfdrill_drill: ScenarioDrill, query: str, op: str | None, value: str,
           seconds: str) -> None:
    _do(pfdrill_drill, "metric", query=query, op=op, value=value, seconds=seconds)


@step(parsers.re(plan.PATTERNS["steady_restored"].regex))
def steady_restored(pfdrill_drill: ScenarioDrill, seconds: str) -> None:
    _do(pfdrill_drill, "steady_restored", seconds=seconds)


# --- success criteria ----------------------------------------------------------------------
@step(parsers.re(plan.PATTERNS["all_criteria"].regex))
def all_criteria(pfdrill_drill: ScenarioDrill) -> None:
    _do(pfdrill_drill, "all_criteria")


@step(parsers.re(plan.PATTERNS["some_criteria"].regex))
def some_criteria(pfdrill_drill: ScenarioDrill, names: str) -> None:
    try:
        _do(pfdrill_drill, "some_criteria", names=names)
    except ValueError as exc:
        raise InvalidInput(f"unknown success criterion: {exc}") from None
