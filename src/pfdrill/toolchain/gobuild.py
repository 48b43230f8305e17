"""Running the Go tool: module downloads, wrapper modules, builds, with progress.

Kubernetes' control-plane commands live in ``k8s.io/kubernetes``, whose go.mod
replaces every staging module with a local path, so ``go install pkg@version``
refuses it. The wrapper module requires ``k8s.io/kubernetes vX.Y.Z`` and
replaces each staging module ``k8s.io/<name> => k8s.io/<name> v0.Y.Z``. etcd's
server has no ``main`` package of its own outside the root module, so its
wrapper is a three-line ``main`` calling ``etcdmain.Main``.

A machine without Go, or with a Go older than a module requires, gets one line
saying which Go is needed and how to get it: the Go release from go.dev, or
(Go 1.21 and later) ``GOTOOLCHAIN=go1.X.Y``, with which the installed Go
fetches that toolchain from the module proxy itself. pfdrill builds with
``GOTOOLCHAIN=local`` unless told otherwise, so nothing is fetched behind
the user's back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pfdrill.errors import ToolchainError

Progress = Callable[[str], None]


# Where Go's own installer puts it, for a shell whose PATH does not have it yet.
GO_FALLBACKS = ("/usr/local/go/bin/go",)
# The first Go release that can fetch a newer toolchain itself (GOTOOLCHAIN).
GOTOOLCHAIN_SINCE = (1, 21)
_GO_VERSION = re.compile(r"^go(\d+)\.(\d+)(?:\.(\d+))?")
_REQUIRES = re.compile(r"requires go >= ?(\d+\.\d+(?:\.\d+)?) \(running go (\d+\.\d+(?:\.\d+)?)"
                       r"; GOTOOLCHAIN=local\)")


def go_binary(needed: str = "") -> str:
    """The go command; one line saying what to install when there is none."""
    found = shutil.which("go") or next((g for g in GO_FALLBACKS if Path(g).exists()), None)
    if not found:
        which = f"Go >= {needed}" if needed else "Go"
        raise ToolchainError(
            f"Go is not installed (no 'go' on PATH): the cluster binaries are built from Go "
            f"modules and need {which}; install it from https://go.dev/dl/ and put its bin/ on "
            "PATH (Debian 12's golang-go is 1.19, too old)")
    return found


def _parse(version: str) -> tuple[int, int, int]:
    m = _GO_VERSION.match(version if version.startswith("go") else f"go{version}")
    if m is None:
        raise ToolchainError(f"cannot read the Go version {version!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def too_old(installed: str, needed: str, what: str) -> ToolchainError:
    """The one-line error for a Go older than ``what`` needs (versions like '1.26.0')."""
    how = f"install Go >= {needed} from https://go.dev/dl/"
    if _parse(installed)[:2] >= GOTOOLCHAIN_SINCE:
        how += (f", or let this Go fetch it from the module proxy: "
                f"GOTOOLCHAIN=go{needed} pfdrill toolchain ensure (or GOTOOLCHAIN=go{needed} make)")
    return ToolchainError(f"{what} needs Go >= {needed}, but {installed} is installed: {how}")


def check_go(needed: str, what: str) -> None:
    """Refuse, in one line, a Go older than ``needed`` (unless $GOTOOLCHAIN lets it switch)."""
    if go_env().get("GOTOOLCHAIN", "local") != "local":
        return  # the go command picks or fetches a toolchain that is new enough itself
    out = subprocess.run([go_binary(needed), "env", "GOVERSION"], capture_output=True, text=True,
                         env=go_env(), check=False, timeout=60)
    installed = out.stdout.strip() or "an unknown Go"
    if out.returncode != 0 or _parse(installed) < _parse(needed):
        raise too_old(installed, needed, what)


def go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CGO_ENABLED", "0")
    env["GOFLAGS"] = "-buildvcs=false -mod=mod"
    env.setdefault("GOTOOLCHAIN", "local")
    return env


def run_go(args: Sequence[str], *, cwd: Path, what: str, progress: Progress,
           env: dict[str, str] | None = None) -> str:
    """Run ``go <args>``; print a heartbeat while it runs; one-line error on failure."""
    cmd = [go_binary(), *args]
    started = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(20.0):
            progress(f"  … still {what} ({_fmt(time.monotonic() - started)})")

    t = threading.Thread(target=heartbeat, daemon=True)
    t.start()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env or go_env(), capture_output=True, text=True)
    except OSError as exc:
        raise ToolchainError(f"{what}: cannot run go: {exc}") from exc
    finally:
        done.set()
    if proc.returncode != 0:
        old = _REQUIRES.search(proc.stderr or proc.stdout)
        if old is not None:
            raise too_old(f"go{old.group(2)}", old.group(1), what)
        raise ToolchainError(f"{what} failed: {_last_error_line(proc.stderr or proc.stdout)}")
    return proc.stdout


def _last_error_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if not ln.startswith("go: downloading"):
            return ln[:300]
    return "no output"


def _fmt(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


def module_gomod(module: str, version: str, *, workdir: Path, progress: Progress) -> str:
    """The go.mod text of ``module@version``, fetched through the module proxy."""
    out = run_go(["mod", "download", "-json", f"{module}@{version}"], cwd=workdir,
                 what=f"downloading {module}@{version}", progress=progress)
    try:
        info = json.loads(out)
    except ValueError as exc:
        raise ToolchainError(f"unexpected 'go mod download' output for {module}@{version}") from exc
    if info.get("Error"):
        raise ToolchainError(f"{module}@{version}: {info['Error'].splitlines()[0]}")
    return Path(info["GoMod"]).read_text()


_STAGING = re.compile(r"^\s*(k8s\.io/[\w.-]+)\s+=>\s+\./staging/", re.MULTILINE)


def kubernetes_wrapper(workdir: Path, kube_version: str, staging_version: str, commands: Sequence[str],
                       progress: Progress) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    scratch = workdir / "probe"
    scratch.mkdir(exist_ok=True)
    (scratch / "go.mod").write_text("module pfdrill.local/probe\n\ngo 1.22\n")
    gomod = module_gomod("k8s.io/kubernetes", kube_version, workdir=scratch, progress=progress)
    staging = sorted(set(_STAGING.findall(gomod)))
    if not staging:
        raise ToolchainError(f"k8s.io/kubernetes@{kube_version}: no staging replacements found in its go.mod")
    go_line = re.search(r"^go (\S+)", gomod, re.MULTILINE)
    if go_line is not None:
        check_go(go_line.group(1), f"building Kubernetes {kube_version}")
    lines = [
        "module pfdrill.local/kubernetes-build", "",
        f"go {go_line.group(1) if go_line else '1.24'}", "",
        f"require k8s.io/kubernetes {kube_version}", "", "replace (",
        *(f"\t{m} => {m} {staging_version}" for m in staging), ")", "",
    ]
    (workdir / "go.mod").write_text("\n".join(lines))
    imports = "\n".join(f'\t_ "k8s.io/kubernetes/cmd/{c}"' for c in commands)
    (workdir / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n")
    run_go(["mod", "tidy"], cwd=workdir, what=f"resolving Kubernetes {kube_version} modules",
           progress=progress)


def etcd_wrapper(workdir: Path, version: str, progress: Progress) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "go.mod").write_text(
        f"module pfdrill.local/etcd-build\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 {version}\n")
    (workdir / "main.go").write_text(
        'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\n'
        "func main() { etcdmain.Main(os.Args) }\n")
    run_go(["mod", "tidy"], cwd=workdir, what=f"resolving etcd {version} modules", progress=progress)


def kube_ldflags(kube_version: str) -> str:
    """Version stamps, so ``--version`` prints the real release (kwokctl reads it)."""
    m = re.match(r"v(\d+)\.(\d+)", kube_version)
    major, minor = (m.group(1), m.group(2)) if m else ("1", "0")
    parts = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        parts += [
            f"-X {pkg}.gitVersion={kube_version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate=1970-01-01T00:00:00Z",
        ]
    return " ".join(parts)
