"""The drill's steady state: what preflight proves before a fault and recovery waits for after.

The fabric is ready (:mod:`pfdrill.fabric.readiness` — the same predicate the
chaostoolkit scenarios' steady-state probes and post-rollback waits use, so a
drill and a scenario cannot disagree on what "healthy" means), it enforces,
its bridge guarantees and DFA integrity hold, and nothing SEV-1/2 is firing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pfdrill.errors import ObjectNotFound
from pfdrill.fabric import readiness
from pfdrill.model.evidence import ProbeSample
from pfdrill.model.fabric import FABRIC

if TYPE_CHECKING:
    from pfdrill.cluster.client import ClusterClient
    from pfdrill.obs.api import PrometheusAPI


class FabricSteadyState:
    """The fabric serves, enforces, and nothing SEV-1/2 is firing."""

    def __init__(self, cluster: ClusterClient, namespace: str, prom: PrometheusAPI,
                 pod_http: readiness.PodHttp | None = None) -> None:
        self._c, self._ns, self._prom, self._pods = cluster, namespace, prom, pod_http

    def check(self) -> Sequence[ProbeSample]:
        out = []
        try:
            mode = self._c.get_configmap(self._ns, FABRIC.policy_config).get("enforcement_mode", "")
        except ObjectNotFound:
            mode = "(no policy-config)"
        out.append(ProbeSample("enforcement_mode", mode, "enforce", mode == "enforce"))
        ready = readiness.check(self._c, self._ns, pod_http=self._pods)
        for w in ready.workloads:
            out.append(ProbeSample(f"{w.name} ready", "ready" if w.ok else "; ".join(w.problems),
                                   "rolled out, available, endpoints and /readyz", w.ok))
        for record in ("pfdrill:bridge_guarantee_ok", "pfdrill:dfa_integrity_ok"):
            v = self._prom.value(record)
            out.append(ProbeSample(record, "no data" if v is None else f"{v:g}", "1", v == 1.0))
        firing = sorted({a.name for a in self._prom.alerts() if a.state == "firing"
                         and a.labels.get("severity") in ("SEV-1", "SEV-2")})
        out.append(ProbeSample("SEV-1/2 alerts firing", ", ".join(firing) or "none", "none",
                               not firing))
        return out
