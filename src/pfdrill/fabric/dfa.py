"""The policy automaton: a JSON DFA over request events, with its integrity check.

A session is allowed to perform ``action`` after the events in ``trace``
when running ``trace + [action]`` from ``start`` never leaves the automaton:
every event is in the alphabet and has a transition from the current state.
Transitions are partial on purpose — a missing edge is the policy saying no.

The artifact (ConfigMap ``dfa-artifact``) holds two keys: ``dfa.json`` and
``dfa.json.sha256`` (``sha256sum`` format, so ``sha256sum -c`` works on a
copy). It is accepted only when the digest of the exact bytes matches, the
JSON satisfies the schema shipped beside this module and the automaton is
well-formed (start and targets are states, events are in the alphabet).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.resources
import json
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema

DFA_KEY = "dfa.json"
SHA_KEY = "dfa.json.sha256"


class DfaRefused(ValueError):
    """An artifact that must not be loaded; ``reason`` is a DFA_FAILURE_REASONS value.

    ``where`` is the path into the JSON of what is wrong, when there is one, so a
    file's reader can name the line.
    """

    def __init__(self, reason: str, detail: str, where: tuple[str | int, ...] = ()) -> None:
        self.reason = reason
        self.where = where
        super().__init__(detail)


@functools.cache
def schema() -> dict[str, Any]:
    text = importlib.resources.files("pfdrill.fabric").joinpath("dfa.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@dataclasses.dataclass(frozen=True)
class Dfa:
    name: str
    alphabet: frozenset[str]
    states: frozenset[str]
    start: str
    transitions: Mapping[str, Mapping[str, str]]
    sha256: str = ""

    def violation(self, trace: Sequence[str], action: str) -> str | None:
        """The rule broken by ``trace + [action]``, or None when the automaton accepts it."""
        state = self.start
        for event in (*trace, action):
            if event not in self.alphabet:
                return f"dfa:{self.name} state={state} event={event} (not in alphabet)"
            nxt = self.transitions.get(state, {}).get(event)
            if nxt is None:
                return f"dfa:{self.name} state={state} event={event}"
            state = nxt
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "name": self.name,
            "alphabet": sorted(self.alphabet),
            "states": sorted(self.states),
            "start": self.start,
            "transitions": {s: dict(t) for s, t in sorted(self.transitions.items())},
        }

    @classmethod
    def from_dict(cls, data: Any, sha256: str = "") -> Dfa:
        try:
            jsonschema.validate(data, schema())
        except RecursionError:
            raise DfaRefused("schema", "fails the DFA schema: nested too deeply") from None
        except jsonschema.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise DfaRefused("schema", f"fails the DFA schema at {where}: {exc.message}",
                             tuple(exc.absolute_path)) from None
        states = frozenset(data["states"])
        alphabet = frozenset(data["alphabet"])
        if data["start"] not in states:
            raise DfaRefused("schema", f"start state {data['start']!r} is not in states", ("start",))
        for src, edges in data["transitions"].items():
            if src not in states:
                raise DfaRefused("schema", f"transitions from unknown state {src!r}",
                                 ("transitions", src))
            for event, dst in edges.items():
                if event not in alphabet:
                    raise DfaRefused("schema", f"transition {src}--{event} uses an event not in "
                                     "the alphabet", ("transitions", src, event))
                if dst not in states:
                    raise DfaRefused("schema", f"transition {src}--{event} goes to unknown state "
                                     f"{dst!r}", ("transitions", src, event))
        return cls(
            name=data["name"], alphabet=alphabet, states=states, start=data["start"],
            transitions={s: dict(t) for s, t in data["transitions"].items()}, sha256=sha256,
        )


def digest_line(dfa_bytes: bytes) -> str:
    """The ``dfa.json.sha256`` content for ``dfa_bytes`` (sha256sum format)."""
    return f"{hashlib.sha256(dfa_bytes).hexdigest()}  {DFA_KEY}\n"


def load_artifact(files: Mapping[str, bytes]) -> Dfa:
    """Verify and parse an artifact given as ``{key: bytes}``; DfaRefused when it must not load."""
    raw, stored = files.get(DFA_KEY), files.get(SHA_KEY)
    if raw is None or stored is None:
        missing = ", ".join(k for k in (DFA_KEY, SHA_KEY) if files.get(k) is None)
        raise DfaRefused("missing", f"artifact lacks {missing}")
    parts = stored.decode("ascii", "replace").split()
    expected = parts[0].lower() if parts else ""
    actual = hashlib.sha256(raw).hexdigest()
    if expected != actual:
        raise DfaRefused("sha256", f"sha256 mismatch: stored {expected or '(empty)'}, computed {actual}")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise DfaRefused("json", f"{DFA_KEY} is not JSON: {detail}") from None
    return Dfa.from_dict(data, sha256=actual)
