"""locust, in its own process, against two real watcher processes and one adapter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pfdrill.fabric.local import LocalFabric
from pfdrill.load import runner
from pfdrill.load.plan import LoadPlan, TrafficKind

pytestmark = [pytest.mark.servers, pytest.mark.slow]


@pytest.fixture(scope="module")
def fabric(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalFabric]:
    with LocalFabric(root=tmp_path_factory.mktemp("fabric")) as f:
        f.start(watchers=2)
        yield f


def test_every_kind_is_judged_as_the_policy_says(fabric: LocalFabric, tmp_path: Path) -> None:
    urls = [w.url for w in fabric.watchers]
    plan = LoadPlan.mixed(urls[0], 80, {k: 1 for k in TrafficKind}, duration_s=4,
                          extra_targets=tuple(urls[1:]))
    run = runner.start(plan, fabric.authority, run_dir=tmp_path / "run")
    final = run.wait(timeout_s=60)
    assert final.finished and final.failures == 0
    kinds = final.by_kind
    assert set(kinds) == {k.value for k in TrafficKind}
    assert kinds["compliant"].requests > 0 and kinds["compliant"].rejected == 0
    for bad in ("violating", "unauthenticated", "tampered_witness"):
        assert kinds[bad].requests > 0 and kinds[bad].allowed == 0
    assert sum(k.unexpected for k in kinds.values()) == 0
    assert set(final.rejects_by_reason) <= {"certificate", "dfa", "permit", "ni", "witness"}
    assert final.rejects_by_reason.get("certificate", 0) > 0 and final.rejects_by_reason.get("witness", 0) > 0
    served = [sum(ln.event == "decision" for ln in w.lines()) for w in fabric.watchers]
    assert all(n > 0 for n in served), served  # users spread over both replicas


def test_scaled_violations_and_live_stats(fabric: LocalFabric, tmp_path: Path) -> None:
    base = LoadPlan.baseline(fabric.watchers[0].url, rate=40)
    surge = base.scaled(TrafficKind.VIOLATING, 10)
    assert surge.rates[TrafficKind.VIOLATING] == pytest.approx(10 * base.rates[TrafficKind.VIOLATING])
    with runner.start(surge, fabric.authority, run_dir=tmp_path / "run") as run:
        live = run.wait_for_stats(timeout_s=30)
        assert live.requests > 0 and not live.finished
        final = run.stop()
    assert final.finished and final.by_kind["violating"].rejected > 0
    assert final.latency_ms["p50"] > 0 and final.latency_ms["p99"] >= final.latency_ms["p50"]


def test_distributed_mode_merges_worker_counts(fabric: LocalFabric, tmp_path: Path) -> None:
    plan = LoadPlan.mixed(fabric.watchers[0].url, 40,
                          {TrafficKind.COMPLIANT: 3, TrafficKind.TAMPERED_WITNESS: 1}, duration_s=5)
    run = runner.start(plan, fabric.authority, run_dir=tmp_path / "run", workers=2)
    final = run.wait(timeout_s=90)
    assert final.requests > 0
    assert final.by_kind["compliant"].allowed > 0 and final.by_kind["tampered_witness"].rejected > 0
    assert final.rejects_by_reason.get("witness", 0) == final.by_kind["tampered_witness"].rejected
