"""When a Deployment counts as rolled out: the same judgement as ``kubectl rollout status``."""

from __future__ import annotations

from typing import Any

import pytest

from pfdrill.cluster.client import deployment_state


def _raw(*, spec: int = 2, total: int | None = 2, ready: int = 2, updated: int = 2,
         generation: int = 3, observed: int = 3, available: int | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"readyReplicas": ready,
                              "availableReplicas": ready if available is None else available,
                              "updatedReplicas": updated, "observedGeneration": observed}
    if total is not None:
        status["replicas"] = total
    return {"metadata": {"namespace": "production", "name": "sidecar-watcher",
                         "generation": generation},
            "spec": {"replicas": spec}, "status": status}


@pytest.mark.parametrize(("raw", "settled"), [
    (_raw(), True),
    # Mid-rollout: both new pods exist (updated == 2) but one is still starting, and an
    # old pod's readiness makes ready == 2. Seen for real right after a re-apply.
    (_raw(total=3, ready=2, updated=2), False),
    (_raw(ready=1), False),
    # kwok marked a new pod Ready before its process answered: ready, not yet available
    # (minReadySeconds) — the scenario wait that passed a second before the probe failed.
    (_raw(available=1), False),
    (_raw(updated=1), False),
    (_raw(observed=2), False),  # the controller has not seen the new spec yet
    (_raw(spec=0, total=None, ready=0, updated=0), True),  # scaled to zero: nothing reported
])
def test_settled_only_when_the_rollout_is_complete(raw: dict[str, Any], settled: bool) -> None:
    assert deployment_state(raw).settled is settled
