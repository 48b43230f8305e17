"""DFA artifact tampering: ``dfa-artifact`` changed behind its integrity check.

``sha_mismatch`` rewrites the automaton so that it would allow what the policy
forbids (``export`` without a review, ``delete`` at all) and leaves the stored
sha256 as it was; ``schema_invalid`` writes JSON that is not a DFA, with a
matching digest, so only the schema stops it. The watcher refuses both and
keeps deciding with the last good automaton.

Proof: the ConfigMap's artifact no longer loads, for the intended reason, and
every watcher reports ``dfa_integrity_ok`` 0.
"""

from __future__ import annotations

import json

from pfdrill.errors import ObjectNotFound
from pfdrill.fabric import dfa as dfa_mod
from pfdrill.faults.base import Observation, Params, Recorder
from pfdrill.faults.context import FaultContext
from pfdrill.faults.kind import FaultKind
from pfdrill.faults.observe import gauge_everywhere
from pfdrill.faults.params import Param, ParamSpec
from pfdrill.faults.state import FaultState
from pfdrill.model import metrics as m
from pfdrill.model.drill import ParamValue
from pfdrill.model.fabric import FABRIC

CONFIGMAP = FABRIC.dfa_artifact
REASON = {"sha_mismatch": "sha256", "schema_invalid": "schema"}


def tampered(raw: str) -> str:
    """The automaton with forbidden edges added (or, if unreadable, one byte more)."""
    try:
        data = json.loads(raw)
        for edges in data["transitions"].values():
            edges.setdefault("export", data["start"])
            edges.setdefault("delete", data["start"])
        return json.dumps(data, indent=2) + "\n"
    except (ValueError, KeyError, TypeError, AttributeError):
        return raw + " "


NOT_A_DFA = json.dumps({"version": 1, "name": "tampered", "states": "all of them"}) + "\n"


class DfaTampering:
    kind = FaultKind.DFA_TAMPERING
    summary = "the DFA artifact is changed without its sha256 (or replaced by schema-invalid JSON)"
    spec = ParamSpec((
        Param("mode", "how the artifact is tampered with", default="sha_mismatch",
              choices=tuple(REASON)),
    ))
    terms = ("dfa", "automaton", FABRIC.dfa_artifact, "artifact", "integrity")

    def validate(self, params: Params) -> dict[str, ParamValue]:
        return self.spec.resolve(self.kind.value, params)

    def inject(self, ctx: FaultContext, params: Params, rec: Recorder) -> None:
        current = ctx.cluster.get_configmap(ctx.namespace, CONFIGMAP)
        if params["mode"] == "sha_mismatch":
            rec.set_configmap(CONFIGMAP, {dfa_mod.DFA_KEY: tampered(current.get(dfa_mod.DFA_KEY, ""))})
        else:
            rec.set_configmap(CONFIGMAP, {dfa_mod.DFA_KEY: NOT_A_DFA,
                                          dfa_mod.SHA_KEY: dfa_mod.digest_line(NOT_A_DFA.encode())})

    def prove(self, ctx: FaultContext, state: FaultState) -> Observation:
        want = REASON[str(state.params["mode"])]
        try:
            data = ctx.cluster.get_configmap(ctx.namespace, CONFIGMAP)
        except ObjectNotFound:
            return Observation(False, f"ConfigMap {CONFIGMAP} is gone")
        try:
            dfa_mod.load_artifact({k: v.encode() for k, v in data.items()})
        except dfa_mod.DfaRefused as exc:
            refused = exc.reason == want
            artifact = f"{CONFIGMAP} refused ({exc.reason}: {exc})"
        else:
            return Observation(False, f"{CONFIGMAP} still loads")
        ok, seen = gauge_everywhere(ctx.scrape(), m.DFA_INTEGRITY_OK.name, None, 0.0)
        return Observation(refused and ok, f"{artifact}; {seen}")
