"""Ensure every cluster binary is built and cached; report what is there.

Usage from Python::

    from pfdrill.toolchain import build
    tc = build.ensure(progress=print)       # builds what is missing, else returns at once
    tc.path("kube-apiserver")               # Path into ~/.cache/pfdrill/toolchain/...
"""

from __future__ import annotations

import dataclasses
import enum
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from pfdrill.errors import ToolchainError
from pfdrill.settings.paths import Paths
from pfdrill.toolchain import gobuild
from pfdrill.toolchain.manifest import Entry, Manifest
from pfdrill.toolchain.versions import Versions

Progress = Callable[[str], None]


class Component(enum.Enum):
    KUBERNETES = "kubernetes"
    ETCD = "etcd"
    KWOK = "kwok"
    KIND = "kind"
    METRICS_SERVER = "metrics-server"
    PROMETHEUS = "prometheus"


# What the embedded cluster needs: built by `pfdrill toolchain ensure` (and `make`). The
# in-cluster Prometheus (overlay kwok-incluster) is built only when asked for
# (`--only prometheus`), e.g. by the test that runs it.
CLUSTER: tuple[Component, ...] = tuple(c for c in Component if c is not Component.PROMETHEUS)

BINARIES: dict[Component, tuple[str, ...]] = {
    Component.KUBERNETES: ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"),
    Component.ETCD: ("etcd",),
    Component.KWOK: ("kwok", "kwokctl"),
    Component.KIND: ("kind",),
    Component.METRICS_SERVER: ("metrics-server",),
    Component.PROMETHEUS: ("prometheus",),
}


@dataclasses.dataclass(frozen=True)
class Toolchain:
    """The built binaries: name → path, with the versions they were built at."""

    root: Path
    versions: Versions
    entries: dict[str, Entry]

    def path(self, name: str) -> Path:
        try:
            return Path(self.entries[name].path)
        except KeyError:
            raise ToolchainError(f"{name} is not in the toolchain; run 'pfdrill toolchain ensure'") from None


def _version_of(component: Component, v: Versions) -> str:
    return {
        Component.KUBERNETES: v.kubernetes,
        Component.ETCD: v.etcd,
        Component.KWOK: v.kwok,
        Component.KIND: v.kind,
        Component.METRICS_SERVER: v.metrics_server,
        Component.PROMETHEUS: v.prometheus,
    }[component]


@dataclasses.dataclass(frozen=True)
class _Ctx:
    component: Component
    version: str
    versions: Versions
    workdir: Path  # scratch module dir
    bindir: Path  # final binaries
    progress: Progress


def _build_kubernetes(ctx: _Ctx) -> None:
    names = BINARIES[Component.KUBERNETES]
    gobuild.kubernetes_wrapper(ctx.workdir, ctx.version, ctx.versions.staging, names, ctx.progress)
    flags = gobuild.kube_ldflags(ctx.version)
    for name in names:
        _go_build(ctx, name, ["build", "-trimpath", "-ldflags", flags, "-o", "{out}",
                              f"k8s.io/kubernetes/cmd/{name}"])


def _build_etcd(ctx: _Ctx) -> None:
    gobuild.etcd_wrapper(ctx.workdir, ctx.version, ctx.progress)
    _go_build(ctx, "etcd", ["build", "-trimpath", "-ldflags", "-s -w", "-o", "{out}", "."])


def _go_install(module_paths: dict[str, str]) -> Callable[[_Ctx], None]:
    def build(ctx: _Ctx) -> None:
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        for name, pkg in module_paths.items():
            _go_build(ctx, name, ["install", "-trimpath", "-ldflags", "-s -w", f"{pkg}@{ctx.version}"],
                      gobin=True)
    return build


def _build_prometheus(ctx: _Ctx) -> None:
    """Prometheus with Kubernetes service discovery only (the in-cluster path's pods):
    Debian's package is built without it, and the other discovery plugins' SDKs would
    double the build. ``--version`` prints the release."""
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    module = ctx.versions.prometheus_module
    stamp = " ".join(f"-X github.com/prometheus/common/version.{k}={v}" for k, v in (
        ("Version", ctx.version.removeprefix("v")), ("Branch", "release"),
        ("Revision", module), ("BuildUser", "pfdrill")))
    _go_build(ctx, "prometheus", ["install", "-trimpath", "-tags", PROMETHEUS_TAGS,
                                  "-ldflags", f"-s -w {stamp}",
                                  f"github.com/prometheus/prometheus/cmd/prometheus@{module}"],
              gobin=True)


PROMETHEUS_TAGS = "remove_all_sd,enable_kubernetes_sd"


RECIPES: dict[Component, Callable[[_Ctx], None]] = {
    Component.KUBERNETES: _build_kubernetes,
    Component.ETCD: _build_etcd,
    Component.KWOK: _go_install({"kwok": "sigs.k8s.io/kwok/cmd/kwok",
                                 "kwokctl": "sigs.k8s.io/kwok/cmd/kwokctl"}),
    Component.KIND: _go_install({"kind": "sigs.k8s.io/kind"}),
    Component.METRICS_SERVER: _go_install({"metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server"}),
    Component.PROMETHEUS: _build_prometheus,
}


def _go_build(ctx: _Ctx, name: str, args: list[str], *, gobin: bool = False) -> None:
    """Build one binary into a staging dir, then move it into place atomically."""
    staging = ctx.bindir.parent / ".staging"
    staging.mkdir(parents=True, exist_ok=True)
    out = staging / name
    env = gobuild.go_env()
    if gobin:
        env["GOBIN"] = str(staging)
    started = time.monotonic()
    ctx.progress(f"[toolchain] building {name} {ctx.version} …")
    gobuild.run_go([a.replace("{out}", str(out)) for a in args], cwd=ctx.workdir,
                   what=f"building {name} {ctx.version}", progress=ctx.progress, env=env)
    if not out.is_file():
        raise ToolchainError(f"building {name} {ctx.version} produced no binary")
    ctx.bindir.mkdir(parents=True, exist_ok=True)
    os.replace(out, ctx.bindir / name)
    ctx.progress(f"[toolchain] built {name} {ctx.version} in {time.monotonic() - started:.0f}s")


def _root(paths: Paths | None) -> Path:
    return (paths or Paths.from_env()).toolchain


def ensure(
    *,
    paths: Paths | None = None,
    versions: Versions | None = None,
    components: tuple[Component, ...] = CLUSTER,
    progress: Progress = lambda _msg: None,
) -> Toolchain:
    """Build whatever is missing or stale; return at once when everything is cached."""
    root = _root(paths)
    v = versions or Versions.from_env()
    manifest = Manifest(root)
    for component in components:
        version = _version_of(component, v)
        names = BINARIES[component]
        if all(manifest.get(n, version) for n in names):
            progress(f"[toolchain] {component.value} {version}: cached")
            continue
        gobuild.go_binary(v.go)  # no Go: say which one, before any download is tried
        key = f"{component.value}-{version}"
        bindir = root / key / "bin"
        ctx = _Ctx(component, version, v, root / key / "src", bindir, progress)
        started = time.monotonic()
        hint = " (a cold Kubernetes build takes 5-30 minutes)" if component is Component.KUBERNETES else ""
        progress(f"[toolchain] {component.value} {version}: building from Go modules{hint}")
        RECIPES[component](ctx)
        seconds = time.monotonic() - started
        for n in names:
            manifest.record(n, component.value, version, bindir / n, seconds)
        progress(f"[toolchain] {component.value} {version}: done in {seconds:.0f}s")
    return Toolchain(root=root, versions=v, entries=dict(manifest.entries))


@dataclasses.dataclass(frozen=True)
class BinaryStatus:
    name: str
    component: str
    version: str
    present: bool
    path: str
    sha256: str
    build_seconds: float


def status(*, paths: Paths | None = None, versions: Versions | None = None,
           deep: bool = False) -> list[BinaryStatus]:
    root = _root(paths)
    v = versions or Versions.from_env()
    manifest = Manifest(root)
    out = []
    for component, names in BINARIES.items():
        version = _version_of(component, v)
        for n in names:
            e = manifest.entries.get(n)
            ok = e is not None and e.version == version and e.intact(deep=deep)
            out.append(BinaryStatus(n, component.value, version, ok, e.path if e else "",
                                    e.sha256 if e else "", e.build_seconds if e else 0.0))
    return out


def binary(name: str, *, paths: Paths | None = None, versions: Versions | None = None,
           on_path: bool = True) -> Path:
    """One cluster binary: the toolchain's own once built (its version is the one pfdrill
    was tested with), else (``on_path``) the first on PATH; one line saying how to get it
    otherwise."""
    v = versions or Versions.from_env()
    component = next((c for c, names in BINARIES.items() if name in names), None)
    entry = Manifest(_root(paths)).get(name, _version_of(component, v)) if component else None
    if entry is not None:
        return Path(entry.path)
    found = shutil.which(name) if on_path else None
    if found:
        return Path(found)
    raise ToolchainError(f"{name} not found: run 'pfdrill toolchain ensure' (builds it from Go "
                         f"modules){' or put ' + name + ' on PATH' if on_path else ''}")


def load(*, paths: Paths | None = None, versions: Versions | None = None) -> Toolchain:
    """The cached toolchain without building; raises if a cluster binary is missing."""
    needed = {n for c in CLUSTER for n in BINARIES[c]}
    missing = [s.name for s in status(paths=paths, versions=versions)
               if not s.present and s.name in needed]
    if missing:
        raise ToolchainError(
            f"toolchain incomplete (missing: {', '.join(missing)}); run 'pfdrill toolchain ensure'")
    root = _root(paths)
    return Toolchain(root=root, versions=versions or Versions.from_env(), entries=dict(Manifest(root).entries))
