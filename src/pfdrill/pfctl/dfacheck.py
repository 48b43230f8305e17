"""``pfctl validate --dfa``: schema, sha256, determinism and reachability of a DFA artifact.

Schema and well-formedness are the fabric's own loader
(:mod:`pfdrill.fabric.dfa`). Determinism is checked on the raw JSON: JSON
parsers keep the last of two equal keys, so a tampered artifact with two
transitions for one (state, event) would silently load one of them — here
it is refused. Reachability: every state must be reachable from the start,
and the start must allow something.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.fabric import dfa
from pfdrill.formats import yamldoc


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


def _positions(raw: bytes, path: Path) -> yamldoc.Document | None:
    """Where things are in the JSON (JSON is YAML 1.2), or None if that cannot be read."""
    try:
        return yamldoc.loads(raw.decode("utf-8"), path, what="JSON")
    except (InvalidInput, UnicodeDecodeError):
        return None


def _duplicate_line(raw: bytes, path: Path) -> int | None:
    """The line of the second of two equal keys: the YAML loader refuses it there."""
    try:
        yamldoc.loads(raw.decode("utf-8"), path, what="JSON")
    except InvalidInput as exc:
        return exc.line if "duplicate key" in exc.message else None
    except UnicodeDecodeError:
        return None
    return None


def _expected_sha(path: Path, given: str | None) -> tuple[str | None, str]:
    if given:
        candidate = Path(given)
        text = candidate.read_text() if candidate.is_file() else given
        return text.split()[0].lower() if text.split() else "", f"--sha256 {given}"
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.is_file():
        parts = sidecar.read_text(encoding="ascii", errors="replace").split()
        return (parts[0].lower() if parts else ""), str(sidecar)
    return None, ""


def validate(path: Path, sha256: str | None = None) -> dict[str, Any]:
    if not path.is_file():
        raise InvalidInput("DFA artifact does not exist", file=path)
    raw = path.read_bytes()
    actual = hashlib.sha256(raw).hexdigest()
    checks: dict[str, str] = {}
    expected, where = _expected_sha(path, sha256)
    if expected is not None:
        if expected != actual:
            raise InvalidInput(f"sha256 mismatch: {where} says {expected or '(empty)'}, the file "
                               f"hashes to {actual} (tampered or stale artifact)", file=path)
        checks["sha256"] = f"matches {where}"
    else:
        checks["sha256"] = f"{actual} (no .sha256 to compare with)"
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except _Duplicate as exc:
        raise InvalidInput(f"not deterministic: key {exc} appears twice (two transitions for one "
                           f"state and event, or a repeated field)", file=path,
                           line=_duplicate_line(raw, path)) from None
    except json.JSONDecodeError as exc:
        raise yamldoc.error_at(f"not JSON: {exc.msg}", path, exc.doc, exc.pos) from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidInput(f"not JSON: {detail}", file=path) from None
    try:
        automaton = dfa.Dfa.from_dict(data, sha256=actual)
    except dfa.DfaRefused as exc:
        message = f"refused by the fabric's loader ({exc.reason}): {exc}"
        doc = _positions(raw, path)
        if doc is None or not exc.where:
            raise InvalidInput(message, file=path) from None
        raise doc.error(message, exc.where) from None
    checks["schema"] = "valid (fabric DFA schema and well-formedness)"
    checks["determinism"] = "one transition per (state, event)"
    seen = {automaton.start}
    queue = deque([automaton.start])
    while queue:
        s = queue.popleft()
        for nxt in automaton.transitions.get(s, {}).values():
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    unreachable = sorted(automaton.states - seen)
    if unreachable:
        raise InvalidInput(f"unreachable state(s) from {automaton.start!r}: "
                           f"{', '.join(unreachable)}", file=path)
    if not automaton.transitions.get(automaton.start):
        raise InvalidInput(f"the start state {automaton.start!r} has no transitions: every "
                           f"request would be refused", file=path)
    unused = sorted(automaton.alphabet - {e for t in automaton.transitions.values() for e in t})
    checks["reachability"] = f"all {len(automaton.states)} states reachable from {automaton.start!r}"
    return {"file": str(path), "name": automaton.name, "sha256": actual, "states":
            len(automaton.states), "events": len(automaton.alphabet), "checks": checks,
            "unused_events": unused}
