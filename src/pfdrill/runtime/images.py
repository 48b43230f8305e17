"""Images the process runtime can run without a container: their entrypoint, locally.

A container with no ``command`` runs its image's entrypoint with the manifest's
``args``, as a container runtime does. The process runtime pulls no image, so it
knows a few images by name and runs the same program from this machine:

- ``prom/prometheus`` (or ``quay.io/prometheus/prometheus``): the Prometheus the
  toolchain builds from Go modules with Kubernetes service discovery
  (``pfdrill toolchain ensure --only prometheus``); Debian's build has no
  Kubernetes SD, so it is not a stand-in for this image.
- ``prom/alertmanager``: Alertmanager from ``$PATH`` (Debian's
  ``prometheus-alertmanager``).

Every pod shares 127.0.0.1, so the program's listen flag is set to the local port
the runtime assigned to the container's first port, replacing the manifest's value
(the image default otherwise). A Go program in such a pod reaches other pods' IPs
through the runtime's pod-network proxy (``HTTP_PROXY``; Prometheus honours it for
scrape and Alertmanager configs with ``proxy_from_environment: true``), and reads
its ServiceAccount at the standard path inside a private mount namespace
(:func:`serviceaccount_wrapper`), because client-go's in-cluster config reads that
fixed path.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable, Sequence

from pfdrill.errors import PfdrillError


@dataclasses.dataclass(frozen=True)
class Image:
    """How one image's entrypoint runs here."""

    repositories: tuple[str, ...]  # without registry host and tag
    binary: Callable[[], str]  # the local program; raises PfdrillError with the fix
    listen_flag: str  # the flag that sets the HTTP listen address


def _prometheus() -> str:
    from pfdrill.toolchain import build

    try:
        return str(build.binary("prometheus", on_path=False))
    except PfdrillError:
        raise PfdrillError("the in-cluster Prometheus is not built: run 'pfdrill toolchain "
                           "ensure --only prometheus' (Debian's has no Kubernetes discovery)") from None


def _alertmanager() -> str:
    for name in ("alertmanager", "prometheus-alertmanager"):
        found = shutil.which(name)
        if found:
            return found
    raise PfdrillError("no Alertmanager on PATH (apt-get install prometheus-alertmanager)")


IMAGES: tuple[Image, ...] = (
    Image(("prom/prometheus", "prometheus/prometheus"), _prometheus, "--web.listen-address"),
    Image(("prom/alertmanager", "prometheus/alertmanager"), _alertmanager, "--web.listen-address"),
)


def repository(image: str) -> str:
    """``quay.io/prometheus/prometheus:v3.16.0`` → ``prometheus/prometheus``; a digest or
    tag is dropped, and so is a registry host (a first part with a dot, colon or 'localhost')."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: name.rindex(":")]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def lookup(image: str) -> Image | None:
    repo = repository(image)
    return next((i for i in IMAGES if repo in i.repositories), None)


def with_listen(args: Sequence[str], flag: str, address: str) -> list[str]:
    """``args`` with ``flag`` set to ``address`` (replacing ``flag=…`` or ``flag …``)."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == flag:
            skip = True
            continue
        if a.startswith(flag + "="):
            continue
        out.append(a)
    return [*out, f"{flag}={address}"]


def serviceaccount_wrapper(argv: Sequence[str], account_dir: str, mount_path: str,
                           *, over: str = "/var/run", root: bool | None = None) -> list[str]:
    """``argv`` run with ``account_dir`` visible at ``mount_path``, as in a container.

    The process gets a private mount namespace (``unshare``; a user namespace too when
    not root) with a fresh tmpfs on ``over`` (resolved: ``/var/run`` is ``/run`` on
    Debian), which must contain ``mount_path``, and the account directory bound at
    ``mount_path``; nothing changes outside the namespace. ``exec`` keeps one pid, so
    signals reach the program.
    """
    if not mount_path.startswith(over.rstrip("/") + "/"):
        raise PfdrillError(f"{mount_path} is not under {over}")
    top = os.path.realpath(over)
    target = top + mount_path[len(over.rstrip("/")):]
    script = ('set -e; mount -t tmpfs -o mode=0755,size=4m pfdrill-pod "$1"; '
              'mkdir -p "$2"; mount --bind "$3" "$2"; shift 3; exec "$@"')
    is_root = os.geteuid() == 0 if root is None else root
    user = [] if is_root else ["--user", "--map-root-user"]
    return ["unshare", *user, "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", script, "sh", top, target, account_dir, *argv]
