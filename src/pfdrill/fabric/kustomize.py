"""Rendering a kustomization the way ``kubectl apply -k`` does: ``kubectl kustomize DIR``.

kubectl's built-in kustomize is the one implementation, so what pfdrill
deploys and what a person applies with ``kubectl apply -k deploy/overlays/T``
cannot differ. kubectl comes from pfdrill's toolchain (or PATH). Renderings of
the shipped overlays are cached per process, keyed by the files' sizes and
times, because unit tests render them many times over.
"""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from pfdrill.errors import EnvironmentProblem, InvalidInput
from pfdrill.settings import assets
from pfdrill.toolchain import build as toolchain

Obj = dict[str, Any]
_cache: dict[tuple[str, str, tuple[tuple[str, int, int], ...]], list[Obj]] = {}


def _stamp(tree: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for dirpath, _dirs, files in os.walk(tree, followlinks=True):
        for name in files:
            st = os.stat(os.path.join(dirpath, name))
            out.append((os.path.join(dirpath, name), st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def build(directory: Path, *, kubectl: Path | None = None) -> list[Obj]:
    """The objects of a kustomization, in kustomize's order; bad input names the directory."""
    if not (directory / "kustomization.yaml").is_file():
        raise InvalidInput("not a kustomization directory (no kustomization.yaml)", file=directory)
    exe = kubectl or toolchain.binary("kubectl")
    shipped = assets.path("deploy").resolve()
    key = None
    if directory.resolve().is_relative_to(shipped):
        key = (str(directory.resolve()), str(exe), _stamp(shipped))
        if key in _cache:
            return copy.deepcopy(_cache[key])
    try:
        done = subprocess.run([str(exe), "kustomize", str(directory)], capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProblem(f"cannot run {exe} kustomize: {exc}") from exc
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
        raise InvalidInput(f"kubectl kustomize failed: {lines[-1] if lines else 'no output'}",
                           file=directory)
    objects = [d for d in yaml.safe_load_all(done.stdout) if d is not None]
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or not obj.get("kind") or \
                not (obj.get("metadata") or {}).get("name"):
            raise InvalidInput(f"object {i + 1} of the rendering is not a Kubernetes object",
                               file=directory)
    if key is not None:
        _cache[key] = copy.deepcopy(objects)
    return objects
