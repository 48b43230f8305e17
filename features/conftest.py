"""Run the Gherkin drills against the shared drill cluster (``drill_cluster``).

The step library comes from the ``pfdrill`` pytest plugin; this only points
its ``pfdrill_environment`` at the test session's cluster, with the detection
pipeline (sink, Prometheus, Alertmanager in the drill profile) and the
reference fabric brought up once, idempotently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pfdrill.drill.environment import DrillEnvironment
from pfdrill.model.sla import TimingProfile


@pytest.fixture(scope="session")
def pfdrill_environment(drill_cluster: Any,
                        pfdrill_profile: TimingProfile) -> Iterator[DrillEnvironment]:
    from pfdrill.detect import pipeline
    from pfdrill.drill import wiring
    from pfdrill.fabric import deploy
    from pfdrill.settings.config import load_config

    pipeline.up(drill_cluster.name, pfdrill_profile.value,
                targets_file=drill_cluster.runtime_dir / "targets.json")
    deploy.deploy(drill_cluster.client, config=load_config(), timeout_s=180)
    factory = wiring.StackEnvironmentFactory(name=drill_cluster.name,
                                             kubeconfig=drill_cluster.kubeconfig,
                                             context=drill_cluster.context)
    env = factory.build(pfdrill_profile)
    try:
        yield env
    finally:
        env.close()
        pipeline.down(drill_cluster.name)
