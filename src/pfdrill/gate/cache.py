"""Base results kept between gate runs (``~/.cache/pfdrill/gate/``).

Pull requests against the same base judge against the same base runs; CI
keeps ``~/.cache/pfdrill`` between jobs, so the base half of the gate is
usually a file read. A key is the sha256 of everything that decides a
result: the base runbook's bytes (its sha256), pfdrill's version, what was
run (the severity; a drill's whole entry), with what (pfdrill's version and a
digest of its installed files: a development checkout's code moves between
versions) and where (provider, context, namespace, the operator inputs given
to the sandbox). A damaged entry is a
miss, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pfdrill._version import __version__
from pfdrill.model.codec import Record

R = TypeVar("R", bound=Record)


@functools.cache
def code_digest() -> str:
    """The sha256 of pfdrill's own files as installed: the base runs with the head's pfdrill,
    so a development checkout whose code moved on (same version) misses the cache."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".json", ".yaml", ".yml", ".j2", ".md"):
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def key(kind: str, parts: Mapping[str, Any]) -> str:
    """A cache key for a ``kind`` of result determined by ``parts`` (JSON-able)."""
    doc = json.dumps({"kind": kind, "pfdrill": __version__, "code": code_digest(), **parts},
                     sort_keys=True, default=str)
    return hashlib.sha256(doc.encode()).hexdigest()


def digest_dir(path: Path | None) -> str:
    """The sha256 of a directory's files (names and bytes); '' for none."""
    if path is None or not path.is_dir():
        return ""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(path)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


class ResultCache:
    def __init__(self, directory: Path, *, enabled: bool = True) -> None:
        self.directory = directory
        self.enabled = enabled

    def _path(self, k: str) -> Path:
        return self.directory / k[:2] / f"{k}.json"

    def get(self, k: str, cls: type[R]) -> R | None:
        if not self.enabled:
            return None
        path = self._path(k)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(self, k: str, record: Record) -> None:
        if not self.enabled:
            return
        path = self._path(k)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record.to_dict(), sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
