"""existing: a cluster pfdrill did not create, reached through a kubeconfig context.

Refused unless the context is on the allow-list in pfdrill's config. pfdrill
never creates or deletes such a cluster: ``up`` checks that it is reachable,
``down`` only forgets it.

``in_cluster``: pfdrill runs in a pod (the scheduled drills' CronJob) and uses
its ServiceAccount (:mod:`.incluster`), context ``in-cluster``. Its RBAC reaches
one namespace, so "reachable" means that namespace can be read, not that
nodes can be listed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pfdrill.cluster import guard, incluster
from pfdrill.cluster.provider import Progress, ProviderKind
from pfdrill.errors import InvalidInput
from pfdrill.model.cluster import ClusterStatus
from pfdrill.settings.config import Config, load_config
from pfdrill.settings.paths import Paths


def _quiet(_msg: str) -> None:
    return None


class ExistingProvider:
    kind = ProviderKind.EXISTING

    def __init__(self, name: str = "existing", *, kubeconfig: str | Path | None = None,
                 context: str | None = None, config: Config | None = None,
                 in_cluster: bool = False, paths: Paths | None = None, **_: object) -> None:
        self.in_cluster = in_cluster
        if in_cluster:
            state = (paths or Paths.from_env()).state
            kubeconfig = incluster.ServiceAccountFiles.from_env().write_kubeconfig(
                state / "in-cluster" / "kubeconfig")
            context = incluster.CONTEXT
        path = Path(kubeconfig or os.environ.get("KUBECONFIG") or Path.home() / ".kube" / "config")
        if not path.is_file():
            raise InvalidInput("kubeconfig file does not exist", file=path)
        self.name = name
        self._kubeconfig = path
        self.config = config or load_config()
        from pfdrill.cluster.client import KubeClient

        # Validates the file and resolves the current context when none is given.
        self._client = KubeClient(path, context)
        guard.check_context(self.config, self._client.context)

    def kubeconfig(self) -> Path:
        return self._kubeconfig

    def context(self) -> str:
        return self._client.context

    def up(self, progress: Progress = _quiet) -> ClusterStatus:
        st = self.status()
        progress(f"[cluster] using existing context {self.context()!r}: "
                 f"{'reachable' if st.running else 'UNREACHABLE ' + st.detail}")
        return st

    def down(self, progress: Progress = _quiet) -> None:
        progress(f"[cluster] existing context {self.context()!r} is left running (pfdrill did not create it)")

    def status(self) -> ClusterStatus:
        from pfdrill.errors import EnvironmentProblem

        base: dict[str, Any] = dict(name=self.name, provider=self.kind.value, context=self.context(),
                    kubeconfig=str(self._kubeconfig))
        try:
            if self.in_cluster:
                self._client.namespace_labels(self.config.namespace)
                nodes: tuple[str, ...] = ()
            else:
                nodes = tuple(n["metadata"]["name"]
                              for n in self._client.list_objects("v1", "Node", None))
        except EnvironmentProblem as exc:
            return ClusterStatus(running=False, detail=str(exc), **base)
        return ClusterStatus(running=True, nodes=nodes, **base)
