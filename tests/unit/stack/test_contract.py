"""The fabric contract check: requirements derived from the alert rules, judged against
what runs, and the drills each gap disables (refused in preflight, the others run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.cluster.fake import FakeCluster
from pfdrill.drill import fake, suite, suitefile
from pfdrill.errors import ContractGap
from pfdrill.fabric import deploy, manifests, readiness
from pfdrill.fabric.authority import Authority
from pfdrill.fabric.telemetry import Telemetry
from pfdrill.model import metrics as m
from pfdrill.model.drill import SuiteSpec
from pfdrill.stack import contract

REPO = Path(__file__).resolve().parents[3]
RULES = REPO / "deploy" / "alerts" / "source" / "rules.yml"
WEEKLY = REPO / "drills" / "weekly.yaml"
OPTIN = "pfdrill.dev/drills=enabled"


def _fabric(without: tuple[str, ...] = ()) -> FakeCluster:
    c = FakeCluster()
    c.apply(manifests.render(deploy.manifests.default_dir(), Authority.generate().bundle()))
    text = Telemetry(m.WATCHER_METRICS)
    text.withhold(without)
    text[m.ENFORCEMENT_MODE].labels(mode="enforce").set(1)
    for pod in c.list_pods("production"):
        c.pod_bodies[("production", pod.name, "/metrics")] = text.render().decode()
    return c


def _check(c: FakeCluster) -> contract.Report:
    return contract.Checker(c, "production", readiness.ApiServerPods(c), RULES,
                            optin_label=OPTIN).run()


def _runner(spec: SuiteSpec, env: object, run_id: str) -> suite.SuiteRunner:
    """A suite runner whose every drill gets ``env`` (the fake world's, edited)."""

    class Factory:
        def build(self, profile: object) -> object:
            return env

    return suite.SuiteRunner(spec, Factory(), run_id=run_id)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def weekly() -> SuiteSpec:
    return suitefile.load(WEEKLY)


def test_the_metrics_come_from_the_rules_with_the_alerts_that_read_them() -> None:
    got = contract.rule_metrics(RULES)
    assert "witness_validation_failures_total" in got
    assert got["witness_validation_failures_total"].alerts == {"WitnessValidationFailures"}
    assert got["enforcement_mode"].labels == {"mode"}
    assert "up" not in got and not any(n.startswith("pfdrill") for n in got)
    # every series the rules select is a contract metric of the fabric
    names = {x.name for x in m.WATCHER_METRICS} | {f"{x.name}_sum" for x in m.WATCHER_METRICS} \
        | {f"{x.name}_count" for x in m.WATCHER_METRICS}
    assert set(got) <= names


def test_selectors_skip_functions_keywords_grouping_and_strings() -> None:
    got = contract.selectors('sum by (pod) (rate(a_total{x="y",job="j"}[${window}])) '
                             '/ on(pod) group_left b or vector(0) > bool 1')
    assert got == {"a_total": {"x"}, "b": set()}


def test_the_reference_fabric_meets_the_contract(weekly: SuiteSpec) -> None:
    report = _check(_fabric())
    assert not report.gaps, report.table(weekly.drills)
    assert "0 gap(s)" in report.table(weekly.drills)


def test_a_missing_metric_disables_exactly_the_drills_whose_alerts_read_it(
        weekly: SuiteSpec) -> None:
    report = _check(_fabric(without=("permit_rejects_total",)))
    (gap,) = report.gaps
    assert gap.requirement.name == "permit_rejects_total"
    assert gap.status is contract.Status.MISSING
    disabled = report.disables(gap, weekly.drills)
    assert disabled == [d.name for d in weekly.drills
                        if {"RejectRateSpikeHigh", "RejectRateSpikeMedium"} & set(
                            d.expected_alerts)]
    assert disabled and len(disabled) < len(weekly.drills)
    line = next(x for x in report.table(weekly.drills).splitlines() if "permit_rejects" in x)
    assert "missing" in line and disabled[0] in line


def test_missing_objects_and_config_values_are_named() -> None:
    c = _fabric()
    c.patch_configmap("production", "policy-config", {"enforcement_mode": "strict"})
    c.delete_object("v1", "Secret", "production", "fabric-certs")
    report = _check(c)
    got = {f.requirement.name: (f.status, f.observed) for f in report.gaps}
    assert got["policy-config enforcement_mode"] == (contract.Status.DIFFERENT,
                                                     "enforcement_mode='strict'")
    assert got["Secret fabric-certs"] == (contract.Status.MISSING, "not found")


def test_a_drill_needing_a_gap_is_refused_in_preflight_and_the_others_run(
        weekly: SuiteSpec, tmp_path: Path) -> None:
    world = fake.FakeWorld()
    env = fake.environment(world, tmp_path)
    refused = {d.name for d in weekly.drills if "RejectRateSpikeHigh" in d.expected_alerts}
    import dataclasses

    env = dataclasses.replace(env, contract_gaps=lambda spec: (
        ["metric permit_rejects_total missing"] if spec.name in refused else []))
    runner = _runner(weekly, env, "r1")
    with pytest.raises(ContractGap) as exc:
        runner.run()
    assert exc.value.exit_code == 3 and "permit_rejects_total" in str(exc.value)
    by = {r.name: r for r in runner.results}
    assert set(by) == {d.name for d in weekly.drills}  # every drill was tried
    for name in refused:
        assert "the fabric lacks what this drill needs" in by[name].reason
        assert by[name].failing_phase is not None and by[name].failing_phase.value == "preflight"
    assert all(by[n].verdict.ok for n in by if n not in refused)
    assert len(world.faults) == len(weekly.drills) - len(refused)  # nothing injected for them


def test_a_gap_seen_while_another_run_holds_the_lease_names_that_run(
        weekly: SuiteSpec, tmp_path: Path) -> None:
    """Two bring-ups at one instant: the slower one finds the faster one's pods still coming
    up. That gap is the other run's doing, so the other run is named (exit 3), not the fabric;
    a gap that outlives the holder's lease is the fabric's again."""
    import dataclasses
    import os
    import socket

    from pfdrill.cluster import lease
    from pfdrill.errors import LeaseHeld

    drill = weekly.drills[0]
    one = dataclasses.replace(weekly, drills=(drill,))
    world = fake.FakeWorld()
    env = fake.environment(world, tmp_path)
    other = str(lease.RunHolder(socket.gethostname(), os.getppid(), "fabric-deploy-1"))  # alive
    assert env.cluster.acquire_lease(env.namespace, lease.LEASE_NAME, other, 60)
    env = dataclasses.replace(env, contract_gaps=lambda spec: ["endpoint sidecar-watcher "
                                                               "/healthz unreachable"])
    runner = _runner(one, env, "r1")
    with pytest.raises(LeaseHeld) as exc:
        runner.run()
    assert exc.value.exit_code == 3 and other in str(exc.value)
    assert not world.faults

    env.cluster.release_lease(env.namespace, lease.LEASE_NAME, other)
    runner = _runner(one, env, "r2")
    with pytest.raises(ContractGap, match="unreachable"):
        runner.run()
    assert not world.faults
