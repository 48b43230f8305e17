"""Drill incident ids fit incident stores (64 characters) and stay unique."""

from __future__ import annotations

from pfdrill.drill.context import INCIDENT_ID_MAX, drill_incident_id


def test_short_names_are_kept_whole() -> None:
    assert drill_incident_id("20261128T143435Z-0252", "high-reject-rate") == \
        "DRILL-20261128T143435Z-0252-high-reject-rate"


def test_long_names_are_cut_to_the_limit_and_stay_distinct() -> None:
    run = "20261128T143435Z-0252"
    a = drill_incident_id(run, "enforcement-disabled-from-detection-to-the-success-criteria")
    b = drill_incident_id(run, "enforcement-disabled-from-detection-to-the-success-criteria-2")
    assert len(a) == len(b) == INCIDENT_ID_MAX and a != b
    assert a.startswith(f"DRILL-{run}-enforcement-disabled")


def test_odd_characters_become_dashes() -> None:
    assert drill_incident_id("r", "Rejects at 5x (SEV-3)") == "DRILL-r-Rejects-at-5x-SEV-3"
