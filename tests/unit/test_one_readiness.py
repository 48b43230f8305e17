"""One meaning of "healthy": every check that waits for or judges readiness uses one predicate.

The scenarios' steady-state probe and post-rollback waits (``chaos.probes``),
the drill's preflight and recovery (``drill.adapters.steady``, the environment's steady
state), the fabric's deploy wait and the stack bring-up all import
:mod:`pfdrill.fabric.readiness`; none judges a Deployment's readiness from its
status fields itself. A scenario probe or a drill that grew its own notion of
"ready" again (the cause of the fail-open scenario's false failure) fails here.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pfdrill

SRC = Path(pfdrill.__file__).parent
REPO = SRC.parent.parent
USERS = ("chaos/probes.py", "drill/adapters/steady.py", "fabric/deploy.py", "stack/lifecycle.py",
         "faults/context.py", "pfctl/trust.py")
# Where a Deployment's status fields may be read to judge readiness: the record that
# defines "rolled out" and the predicate itself.
JUDGES = {"model/cluster.py", "fabric/readiness.py"}
READINESS_FIELDS = {"settled"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.update(f"{node.module}.{a.name}" for a in node.names)
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_every_readiness_check_imports_the_one_predicate() -> None:
    for rel in USERS:
        assert "pfdrill.fabric.readiness" in _imports(SRC / rel), rel


def test_nobody_else_judges_readiness_from_deployment_status_fields() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = str(path.relative_to(SRC))
        if rel in JUDGES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in READINESS_FIELDS:
                offenders.append(f"{rel}:{node.lineno} .{node.attr}")
    allowed = {o for o in offenders if o.startswith(("fabric/deploy.py", "runbook/verify.py"))}
    # fabric.deploy's status line and a runbook step's "rolled out" effect check read the
    # same DeploymentState.settled the predicate builds on; nothing else may.
    assert set(offenders) == allowed, offenders


def test_the_drill_environment_judges_its_steady_state_with_it() -> None:
    wiring = (SRC / "drill" / "wiring.py").read_text(encoding="utf-8")
    assert "steady_state=steady.FabricSteadyState(" in wiring


def test_every_scenario_uses_the_probes_built_on_it() -> None:
    ready_funcs = {"fabric_ready", "wait_fabric_ready", "wait_fabric_healthy"}
    for path in sorted((REPO / "scenarios").glob("*.json")):
        exp = json.loads(path.read_text(encoding="utf-8"))
        probes = exp["steady-state-hypothesis"]["probes"] + exp["method"]
        funcs = {p["provider"].get("func") for p in probes if p["type"] == "probe"}
        assert "fabric_ready" in funcs, path.name
        assert funcs & (ready_funcs - {"fabric_ready"}), path.name
