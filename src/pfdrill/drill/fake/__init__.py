"""Fakes of every drill collaborator over one simulated world, for unit tests (STYLE.md 9).

    world = FakeWorld()
    env = environment(world, state_dir)
    world.silenced.add("PolicyAdapterFailingOpen")   # the alert rule was removed
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pfdrill.drill.environment import DrillEnvironment, EnvironmentFactory
from pfdrill.drill.fake.faults import FakeFaultCatalog
from pfdrill.drill.fake.runbook import FakeRunbook
from pfdrill.drill.fake.sources import (
    FakeArtifacts,
    FakeClassifier,
    FakeDetector,
    FakeIncidents,
    FakeLogs,
    FakeMetrics,
    FakeNotifications,
    FakeRules,
    FakeSteadyState,
)
from pfdrill.drill.fake.world import FakeClock, FakeWorld, RulesKeeper
from pfdrill.drill.snapshot import ClusterSnapshotter, SnapshotPlan, SnapshotStore
from pfdrill.model.sla import TimingProfile
from pfdrill.settings.config import Config

FAKE_WEBHOOK = "http://127.0.0.1:1/hooks/T000/B000/fake-secret-token"

__all__ = ["FakeClock", "FakeEnvironmentFactory", "FakeWorld", "environment"]


def environment(world: FakeWorld, state_dir: Path, **overrides: Any) -> DrillEnvironment:
    config = Config(allowed_contexts=(world.cluster.context,), namespace=world.namespace)
    env = DrillEnvironment(
        cluster=world.cluster, config=config, clock=world.clock,
        steady_state=FakeSteadyState(world),
        snapshotter=ClusterSnapshotter(world.cluster, SnapshotPlan(world.namespace)),
        snapshots=SnapshotStore(state_dir / "snapshots"),
        faults=FakeFaultCatalog(world), detector=FakeDetector(world),
        classifier=FakeClassifier(world), runbook=FakeRunbook(world),
        notifications=FakeNotifications(world), logs=FakeLogs(world),
        metrics=FakeMetrics(world), incidents=FakeIncidents(world),
        artifacts=FakeArtifacts(world), rules=FakeRules(world),
        cluster_name="fake", provider="fake", secrets=(FAKE_WEBHOOK,),
        runbook_env={"SECURITY_WEBHOOK": FAKE_WEBHOOK}, keepers=(RulesKeeper(world),))
    return dataclasses.replace(env, **overrides) if overrides else env


class FakeEnvironmentFactory:
    """An :class:`EnvironmentFactory` handing out one fake world's environment."""

    def __init__(self, world: FakeWorld, state_dir: Path) -> None:
        self.world = world
        self.state_dir = state_dir
        self.built: list[TimingProfile] = []

    def build(self, profile: TimingProfile) -> DrillEnvironment:
        self.built.append(profile)
        return environment(self.world, self.state_dir, profile=profile)


_: type[EnvironmentFactory] = FakeEnvironmentFactory  # it satisfies the protocol
