from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdrill.fabric.labels import Flow, Label, ni_violation

labels = st.sampled_from(list(Label))


def test_lattice_order() -> None:
    assert [lab.value for lab in sorted(Label, key=lambda x: x.level)] == [
        "public", "internal", "confidential", "secret"]
    assert Label.SECRET.dominates(Label.PUBLIC) and not Label.PUBLIC.dominates(Label.INTERNAL)


@given(src=labels, dst=labels, clearance=labels)
def test_ni_allows_exactly_upward_flows_within_clearance(src: Label, dst: Label, clearance: Label) -> None:
    allowed = ni_violation(Flow(src, dst), clearance) is None
    assert allowed == (src.level <= dst.level and src.level <= clearance.level)


def test_rules_name_the_problem() -> None:
    assert ni_violation(Flow(Label.SECRET, Label.PUBLIC), Label.SECRET) == "ni:flow secret->public"
    assert ni_violation(Flow(Label.SECRET, Label.SECRET), Label.INTERNAL) == "ni:clearance internal<secret"


@pytest.mark.parametrize("bad", [None, 3, "top", {"source": "public"}])
def test_unknown_labels_are_value_errors(bad: object) -> None:
    with pytest.raises(ValueError):
        Flow.from_dict(bad if isinstance(bad, dict) else {"source": bad, "destination": "public"})
