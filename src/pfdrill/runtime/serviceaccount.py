"""The pod's ServiceAccount projection, the way a kubelet makes it.

A kubelet mounts ``/var/run/secrets/kubernetes.io/serviceaccount`` into every
pod that does not opt out (``automountServiceAccountToken: false``): a token
from the TokenRequest API bound to the pod (refreshed at 80% of its life),
the cluster CA from the namespace's ``kube-root-ca.crt`` ConfigMap, and the
namespace. The process runtime writes the same three files into the pod's
own directory (atomically, like any projected volume), translates that mount
path like the pod's other mounts, and tells the process where they are with
``PFDRILL_SERVICEACCOUNT_DIR`` beside ``KUBERNETES_SERVICE_HOST``/``_PORT``
(deploy/RUNTIME-CONTRACT.md). A pod therefore reaches the API server as its
ServiceAccount, with that account's RBAC, never as the runtime's admin.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pfdrill.cluster.client import ClusterClient
from pfdrill.runtime import volumes

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
TOKEN_SECONDS = 3607  # what the kubelet asks for
REFRESH_AT = 0.8  # of a token's life


def wanted(pod: Mapping[str, Any]) -> bool:
    return (pod.get("spec") or {}).get("automountServiceAccountToken") is not False


class TokenProjection:
    def __init__(self, client: ClusterClient, directory: Path, pod: Mapping[str, Any],
                 api_server: str) -> None:
        meta = pod.get("metadata") or {}
        self.client = client
        self.directory = directory
        self.namespace: str = meta.get("namespace", "")
        self.pod = (str(meta.get("name", "")), str(meta.get("uid", "")))
        self.service_account: str = (pod.get("spec") or {}).get("serviceAccountName") or "default"
        self.api_server = api_server
        self._issued = 0.0
        self._ca = b""

    def due(self, now: float) -> bool:
        return not self._issued or now - self._issued > REFRESH_AT * TOKEN_SECONDS

    def sync(self, configmaps: Mapping[str, Mapping[str, str]], now: float | None = None) -> bool:
        """Request a fresh token when due, re-project when the CA changed; True when written.

        Raises the cluster client's error when the token cannot be had (the caller
        records it as the pod's problem, as a kubelet reports a failed mount).
        """
        at = time.monotonic() if now is None else now
        ca = (configmaps.get(ROOT_CA_CONFIGMAP) or {}).get("ca.crt", "").encode()
        if not self.due(at) and ca == self._ca:
            return False
        token = self.client.request_token(self.namespace, self.service_account,
                                          seconds=TOKEN_SECONDS, pod=self.pod)
        volumes.project(self.directory, {"token": token.encode(), "ca.crt": ca,
                                         "namespace": self.namespace.encode()}, mode=0o600)
        self._issued, self._ca = at, ca
        return True

    def env(self) -> dict[str, str]:
        url = urllib.parse.urlsplit(self.api_server)
        return {"PFDRILL_SERVICEACCOUNT_DIR": str(self.directory),
                "KUBERNETES_SERVICE_HOST": url.hostname or "127.0.0.1",
                "KUBERNETES_SERVICE_PORT": str(url.port or 443)}
