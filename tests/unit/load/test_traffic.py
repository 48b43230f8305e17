"""Every prepared variant is judged by the real decision pipeline as its name says."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from pfdrill.cluster.provider import ProviderKind
from pfdrill.fabric import decision, manifests
from pfdrill.fabric import dfa as dfa_mod
from pfdrill.fabric.authority import Authority
from pfdrill.fabric.permit import AdapterFailure
from pfdrill.fabric.policy import PolicyConfig
from pfdrill.fabric.request import DecideRequest
from pfdrill.fabric.rules import Decision, RuleSet
from pfdrill.load.plan import TrafficKind
from pfdrill.load.traffic import IdentitySet, variants

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "fabric"


class RulePermits:
    def __init__(self) -> None:
        self.rules = RuleSet.parse((DEPLOY / "adapter-rules.yaml").read_text())

    async def decide(self, principal: str, action: str, timeout_s: float) -> Decision:
        if not principal:
            raise AdapterFailure("bad_response", "unreachable")
        return self.rules.decide(principal, action)


def test_variants_break_exactly_the_check_they_are_named_after(tmp_path: Path) -> None:
    ca = Authority.generate()
    ids = IdentitySet.issue(ca)
    ids.save(tmp_path / "ids.json")
    assert (tmp_path / "ids.json").stat().st_mode & 0o777 == 0o600
    loaded = IdentitySet.load(tmp_path / "ids.json")
    dfa_data = manifests.configmap_data(manifests.render(manifests.overlay(ProviderKind.KWOK), None),
                                        "dfa-artifact")
    dfa = dfa_mod.load_artifact({k: v.encode() for k, v in dfa_data.items()})
    expected_check = {"dfa": "dfa", "permit": "permit", "ni": "ni", "missing": "certificate",
                      "foreign_ca": "certificate", "expired": "certificate"}
    grouped = variants(loaded)
    assert all(grouped[k] for k in TrafficKind)
    for kind, vs in grouped.items():
        for v in vs:
            ctx = decision.Context(config=PolicyConfig(), dfa=dfa, bundle=ca.bundle(),
                                   permits=RulePermits(), now=time.time())
            finding = asyncio.run(decision.evaluate(DecideRequest.parse(v.body.encode()), ctx))
            assert (finding is None) == v.expect_allow, (v.name, finding)
            suffix = v.name.split(":")[1]
            if kind is TrafficKind.TAMPERED_WITNESS:
                assert finding is not None and finding.check.value == "witness"
            elif finding is not None:
                assert finding.check.value == expected_check[suffix], v.name
            json.loads(v.body)
