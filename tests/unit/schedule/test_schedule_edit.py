"""``pfctl chaos update``: a runbook's request edits drills/schedule.yaml, comments kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import InvalidInput
from pfdrill.pfctl import chaos
from pfdrill.pfctl.context import Context, StaticLogs
from pfdrill.pfctl.settings import EnvSettings
from pfdrill.schedule import edit, scenario, spec
from pfdrill.schedule.spec import Frequency


@pytest.fixture
def make_ctx(project: Path) -> Callable[..., Context]:
    cluster = FakeCluster("kwok-test")

    def make(**env: str) -> Context:
        return Context(env=EnvSettings(name="production", **env), state_dir=project / "state",
                       client_factory=lambda: cluster, logs=StaticLogs({}), cwd=project)
    return make


def test_the_runbooks_scenario_is_recorded_and_comments_survive(
        schedule_file: Path, make_ctx: Callable[..., Context],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PFDRILL_SCHEDULE", raising=False)
    before = schedule_file.read_text()
    got = chaos.update(make_ctx(), "policy_adapter_failure", "weekly")
    after = schedule_file.read_text()
    assert got["changed"] and got["drills"] == ["adapter-fail-open"] and got["added"] == []
    assert got["file"] == str(schedule_file)
    # every line that was there is still there, comments and quoting included
    assert [ln for ln in before.splitlines() if ln.strip()] == [
        ln for ln in after.splitlines() if ln.strip()][:len([ln for ln in before.splitlines()
                                                             if ln.strip()])]
    assert "  policy_adapter_failure: weekly" in after
    assert spec.load(schedule_file).scenarios == {"policy_adapter_failure": Frequency.WEEKLY}
    again = chaos.update(make_ctx(), "policy_adapter_failure", "weekly")
    assert not again["changed"] and schedule_file.read_text() == after
    assert "already weekly" in again["summary"]


def test_a_drill_that_runs_less_often_gets_an_entry_at_the_asked_frequency(
        schedule_file: Path) -> None:
    edit.request(schedule_file, "certificate_failure", Frequency.WEEKLY)  # covered already
    change = edit.request(schedule_file, "high-reject-rate", Frequency.DAILY)
    assert change.added == ("high-reject-rate → schedule 'weekly-daily'",)
    text = schedule_file.read_text()
    assert "# Mondays 06:00 UTC" in text  # the comments are kept
    assert "  - name: weekly-daily\n    suite: weekly.yaml\n    cron: 0 6 * * *\n" \
           "    drills: [high-reject-rate]\n" in text
    s = spec.load(schedule_file)
    assert s.entry("weekly-daily").frequency is Frequency.DAILY
    assert s.scenarios == {"certificate_failure": Frequency.WEEKLY,
                           "high-reject-rate": Frequency.DAILY}
    # a second drill for the same frequency joins that entry
    change = edit.request(schedule_file, "dfa_integrity_failure", Frequency.DAILY)
    assert change.added == ("dfa-tampering → schedule 'weekly-daily'",)
    assert spec.load(schedule_file).entry("weekly-daily").drills == ("high-reject-rate",
                                                                      "dfa-tampering")


@pytest.mark.parametrize(("name", "fault"), [
    ("policy_adapter_failure", "adapter_failure"), ("adapter-failure-fail-open", "adapter_failure"),
    ("adapter_failure", "adapter_failure"), ("high-reject-rate", "high_reject_rate"),
    ("config_drift", "enforcement_disabled"), ("nope", None)])
def test_scenario_names_from_runbooks_files_and_the_catalog(name: str, fault: str | None) -> None:
    assert scenario.fault_of(name) == fault


def test_bad_requests_change_nothing(schedule_file: Path, make_ctx: Callable[..., Context]) -> None:
    before = schedule_file.read_text()
    ctx = make_ctx(schedule_file=str(schedule_file))
    with pytest.raises(InvalidInput, match="unknown scenario 'x'"):
        chaos.update(ctx, "x", "weekly")
    with pytest.raises(InvalidInput, match="frequency 'sometimes' is not one of"):
        chaos.update(ctx, "policy_adapter_failure", "sometimes")
    with pytest.raises(InvalidInput, match="no suite the schedule runs has a drill of it"):
        chaos.update(ctx, "witness_validation_failure", "weekly")
    assert schedule_file.read_text() == before
    assert ctx.store.query("SELECT * FROM chaos_schedules") == []
