"""The steady-state probe of the reference fabric's contract."""

from __future__ import annotations

from collections.abc import Sequence

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import ObjectNotFound
from pfdrill.model.evidence import ProbeSample
from pfdrill.obs.api import PrometheusAPI


class FabricSteadyState:
    """The fabric serves, enforces, and nothing SEV-1/2 is firing."""

    def __init__(self, cluster: ClusterClient, namespace: str, prom: PrometheusAPI) -> None:
        self._c, self._ns, self._prom = cluster, namespace, prom

    def check(self) -> Sequence[ProbeSample]:
        out = []
        try:
            mode = self._c.get_configmap(self._ns, "policy-config").get("enforcement_mode", "")
        except ObjectNotFound:
            mode = "(no policy-config)"
        out.append(ProbeSample("enforcement_mode", mode, "enforce", mode == "enforce"))
        for name in ("sidecar-watcher", "policy-adapter"):
            try:
                d = self._c.get_deployment(self._ns, name)
                out.append(ProbeSample(f"{name} ready", f"{d.ready}/{d.replicas}",
                                       "all desired ready, >= 1", d.replicas >= 1 and d.settled))
            except ObjectNotFound:
                out.append(ProbeSample(f"{name} ready", "missing", "deployed", False))
        for record in ("pfdrill:bridge_guarantee_ok", "pfdrill:dfa_integrity_ok"):
            v = self._prom.value(record)
            out.append(ProbeSample(record, "no data" if v is None else f"{v:g}", "1", v == 1.0))
        firing = sorted({a.name for a in self._prom.alerts() if a.state == "firing"
                         and a.labels.get("severity") in ("SEV-1", "SEV-2")})
        out.append(ProbeSample("SEV-1/2 alerts firing", ", ".join(firing) or "none", "none",
                               not firing))
        return out
