"""Source files → the faults and check kinds whose code they hold (registry and import graph)."""

from __future__ import annotations

from pfdrill.drill import checks
from pfdrill.faults.kind import FaultKind
from pfdrill.gate import sources
from pfdrill.model.drill import CheckKind


def test_a_driver_module_touches_its_own_fault_only() -> None:
    got = sources.faults_touched(["src/pfdrill/faults/reject.py", "README.md"])
    assert got == {"high_reject_rate": ("src/pfdrill/faults/reject.py",)}


def test_shared_fault_code_touches_every_fault() -> None:
    got = sources.faults_touched(["src/pfdrill/faults/base.py"])
    assert set(got) == {k.value for k in FaultKind}
    chaos = sources.faults_touched(["src/pfdrill/chaos/experiment.py"])
    assert set(chaos) == {k.value for k in FaultKind}


def test_unrelated_source_touches_no_fault() -> None:
    assert sources.faults_touched(["src/pfdrill/report/html.py", "drills/weekly.yaml"]) == {}


def test_module_of_reads_the_pfdrill_tail_of_a_path() -> None:
    assert sources.module_of("src/pfdrill/faults/dfa.py") == "pfdrill.faults.dfa"
    assert sources.module_of("pfdrill/gate/__init__.py") == "pfdrill.gate"
    assert sources.module_of("runbooks/x.md") is None


def test_a_change_inside_one_check_kind_touches_that_kind() -> None:
    lines = sources.check_lines()[CheckKind.CONFIGMAP]
    inside = frozenset({min(lines) + 2})
    got = sources.checks_touched(["src/pfdrill/drill/checks.py"], lambda _p: inside)
    assert got == {CheckKind.CONFIGMAP: "src/pfdrill/drill/checks.py"}


def test_a_change_to_shared_check_code_touches_every_kind() -> None:
    import inspect

    _, start = inspect.getsourcelines(checks._compare)
    got = sources.checks_touched(["src/pfdrill/drill/checks.py"], lambda _p: frozenset({start}))
    assert set(got) == set(CheckKind)
    assert sources.checks_touched(["src/pfdrill/drill/suite.py"], lambda _p: frozenset()) == {}
