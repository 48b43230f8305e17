"""Which versions the toolchain builds: data, overridable from the environment.

The Kubernetes version is the one kwok's release defaults to (kwok v0.8.0 →
Kubernetes v1.36.1, etcd 3.6.10), so ``kwokctl`` sees exactly the components
it was released against.
"""

from __future__ import annotations

import dataclasses
import os
import re

from pfdrill.errors import InvalidInput

_SEMVER = re.compile(r"^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
# The Go each Kubernetes minor release builds with (the `go` line of k8s.io/kubernetes's
# go.mod), to tell a machine without Go which one to install before anything can be
# downloaded; the build reads the real go.mod and checks the installed Go against it.
KUBERNETES_GO = {"v1.36": "1.26.0"}


@dataclasses.dataclass(frozen=True)
class Versions:
    kubernetes: str = "v1.36.1"
    etcd: str = "v3.6.10"
    kwok: str = "v0.8.0"
    kind: str = "v0.33.0"
    metrics_server: str = "v0.8.0"
    # The in-cluster Prometheus image's release (deploy/components/prometheus), built
    # with Kubernetes service discovery; its Go module is versioned v0.<major><minor>.<patch>.
    prometheus: str = "v3.16.0"

    @classmethod
    def from_env(cls) -> Versions:
        """Defaults, overridden by ``PFDRILL_<NAME>_VERSION`` (e.g. ``PFDRILL_KUBERNETES_VERSION``)."""
        values = {}
        for f in dataclasses.fields(cls):
            env = f"PFDRILL_{f.name.upper()}_VERSION"
            raw = os.environ.get(env)
            if raw is None:
                continue
            v = raw if raw.startswith("v") else f"v{raw}"
            if not _SEMVER.fullmatch(v):
                raise InvalidInput(f"{env}={raw!r} is not a version like v1.2.3")
            values[f.name] = v
        return cls(**values)

    @property
    def staging(self) -> str:
        """The k8s.io staging modules' version for this Kubernetes release (v1.36.1 → v0.36.1)."""
        return "v0" + self.kubernetes[2:]

    @property
    def prometheus_module(self) -> str:
        """The module version of this Prometheus release (v3.16.0 → v0.316.0)."""
        major, minor, patch = self.prometheus.removeprefix("v").split("-")[0].split(".")
        return f"v0.{int(major)}{int(minor):02d}.{patch}"

    @property
    def go(self) -> str:
        """The Go the Kubernetes build needs, e.g. '1.26.0' ('' for a release not listed)."""
        return KUBERNETES_GO.get(".".join(self.kubernetes.split(".")[:2]), "")

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)
