"""The JSON evidence bundle: the full (redacted) results and a sha256 of every report file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pfdrill.model.result import MEASURE_DEFINITIONS, SuiteResult

EVIDENCE = "evidence.json"
SUMS = "SHA256SUMS"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def files(directory: Path) -> dict[str, str]:
    """sha256 of every file under ``directory`` except the bundle and the sums themselves."""
    return {p.relative_to(directory).as_posix(): sha256(p)
            for p in sorted(directory.rglob("*"))
            if p.is_file() and p.name not in (EVIDENCE, SUMS) and not p.name.endswith(".tmp")}


def document(suite: SuiteResult, sums: dict[str, str]) -> dict[str, Any]:
    return {"format": "pfdrill-evidence/1", "definitions": MEASURE_DEFINITIONS,
            "suite": suite.to_dict(), "files": sums}


def load(directory: Path) -> SuiteResult:
    data = json.loads((directory / EVIDENCE).read_text(encoding="utf-8"))
    return SuiteResult.from_dict(data["suite"])


def sums_text(directory: Path) -> str:
    """``sha256sum -c`` compatible lines for every file, the evidence bundle included."""
    lines = [f"{digest}  {name}" for name, digest in files(directory).items()]
    if (directory / EVIDENCE).is_file():
        lines.append(f"{sha256(directory / EVIDENCE)}  {EVIDENCE}")
    return "\n".join(lines) + "\n"
