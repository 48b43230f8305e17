"""The toolchain cache manifest: what was built, at which version, with which sha256."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str  # binary name, e.g. "kube-apiserver"
    component: str  # build unit, e.g. "kubernetes"
    version: str
    path: str
    sha256: str
    size: int
    mtime_ns: int
    build_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entry:
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls)})

    def intact(self, *, deep: bool = False) -> bool:
        """The file is still the one that was built (size+mtime; sha256 when ``deep``)."""
        p = Path(self.path)
        try:
            st = p.stat()
        except OSError:
            return False
        if st.st_size != self.size or st.st_mtime_ns != self.mtime_ns:
            return False
        return not deep or sha256_file(p) == self.sha256


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Manifest:
    """``manifest.json`` in the toolchain root; written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "manifest.json"
        self.entries: dict[str, Entry] = {}
        if self.path.is_file():
            try:
                raw = json.loads(self.path.read_text())
                self.entries = {e["name"]: Entry.from_dict(e) for e in raw.get("binaries", [])}
            except (ValueError, KeyError, TypeError):
                self.entries = {}  # a corrupt manifest means "rebuild", not a crash

    def record(self, name: str, component: str, version: str, path: Path, seconds: float) -> Entry:
        st = path.stat()
        entry = Entry(name, component, version, str(path), sha256_file(path), st.st_size,
                      st.st_mtime_ns, round(seconds, 1))
        self.entries[name] = entry
        self.save()
        return entry

    def get(self, name: str, version: str) -> Entry | None:
        e = self.entries.get(name)
        if e is None or e.version != version or not e.intact():
            return None
        return e

    def save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {"binaries": [e.to_dict() for e in sorted(self.entries.values(), key=lambda e: e.name)]}
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, self.path)
