"""In-cluster configuration: the pod's ServiceAccount token instead of a kubeconfig.

Inside a pod the API server is ``https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT``
and the kubelet projects the ServiceAccount's token, the cluster CA and the
namespace into ``/var/run/secrets/kubernetes.io/serviceaccount``. The
Kubernetes client's ``load_incluster_config`` reads only that fixed path;
pfdrill reads ``$PFDRILL_SERVICEACCOUNT_DIR`` first, so a pod run by the
process runtime (a local process, with its projection in the pod's own
directory) is configured the same way (deploy/RUNTIME-CONTRACT.md).

Tools that only take a kubeconfig (kubectl in runbooks, chaostoolkit
experiments) get one written here that points at the same files
(``tokenFile``: the token is re-read as the kubelet rotates it).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from pfdrill.errors import InvalidInput

CONTEXT = "in-cluster"
DIR_ENV = "PFDRILL_SERVICEACCOUNT_DIR"
STANDARD_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
HOST_ENV, PORT_ENV = "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"


@dataclasses.dataclass(frozen=True)
class ServiceAccountFiles:
    directory: Path
    host: str
    port: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ServiceAccountFiles:
        return cls(Path(environ.get(DIR_ENV) or STANDARD_DIR), environ.get(HOST_ENV, ""),
                   environ.get(PORT_ENV, ""))

    @property
    def token(self) -> Path:
        return self.directory / "token"

    @property
    def ca(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def namespace_file(self) -> Path:
        return self.directory / "namespace"

    @property
    def server(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    def available(self) -> bool:
        return bool(self.host and self.port) and self.token.is_file() and self.ca.is_file()

    def check(self) -> None:
        """Bad input naming what is missing: not in a pod, or no token projected."""
        if not (self.host and self.port):
            raise InvalidInput(f"--in-cluster: ${HOST_ENV} and ${PORT_ENV} are not set (not "
                               f"running in a pod?)")
        for p in (self.token, self.ca):
            if not p.is_file():
                raise InvalidInput(f"--in-cluster: no {p.name} (set ${DIR_ENV} to the "
                                   f"projected ServiceAccount directory)", file=p)

    def namespace(self) -> str:
        try:
            return self.namespace_file.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def kubeconfig(self) -> dict[str, object]:
        ns = self.namespace()
        return {
            "apiVersion": "v1", "kind": "Config", "current-context": CONTEXT,
            "clusters": [{"name": CONTEXT, "cluster": {
                "server": self.server, "certificate-authority": str(self.ca)}}],
            "users": [{"name": CONTEXT, "user": {"tokenFile": str(self.token)}}],
            "contexts": [{"name": CONTEXT, "context": {
                "cluster": CONTEXT, "user": CONTEXT, **({"namespace": ns} if ns else {})}}],
        }

    def write_kubeconfig(self, path: Path) -> Path:
        """A kubeconfig for subprocesses; it holds paths, never the token itself."""
        self.check()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(yaml.safe_dump(self.kubeconfig(), sort_keys=False), encoding="utf-8")
        tmp.replace(path)
        return path


def service_address(service: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """``host:port`` of a Service in the pod's own namespace, from the kubelet's service
    variables (``SIDECAR_WATCHER_SERVICE_HOST``/``_PORT``), or None outside a pod."""
    prefix = "".join(c if c.isalnum() else "_" for c in service).upper()
    host, port = environ.get(f"{prefix}_SERVICE_HOST"), environ.get(f"{prefix}_SERVICE_PORT")
    if not host or not port:
        return None
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
