"""drills/schedule.yaml: validated by its JSON Schema and by meaning, every error at a line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pfdrill.cli import main
from pfdrill.errors import InvalidInput
from pfdrill.schedule import due, spec
from pfdrill.schedule.spec import Frequency

REPO = Path(__file__).resolve().parents[3]


def test_the_committed_schedule_is_valid() -> None:
    s = spec.load(REPO / "drills" / "schedule.yaml")
    (weekly,) = s.entries
    assert (weekly.name, weekly.cron, weekly.frequency) == ("weekly", "0 6 * * 1", Frequency.WEEKLY)
    assert weekly.drills == () and weekly.suite_file == (REPO / "drills" / "weekly.yaml").resolve()
    assert s.webhook.env == "PFDRILL_SUMMARY_WEBHOOK" and not s.webhook.url
    assert s.keep == 52


def _error(file: Path, old: str, new: str) -> InvalidInput:
    file.write_text(file.read_text().replace(old, new, 1))
    with pytest.raises(InvalidInput) as got:
        spec.load(file)
    return got.value


def _line_of(file: Path, text: str) -> int:
    return next(i for i, line in enumerate(file.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ('cron: "0 6 * * 1"', 'cron: "0 6 * *"', 'cron: "0 6 * *"',
     "schedules[0].cron: '0 6 * *' is not a five-field cron expression"),
    ('cron: "0 6 * * 1"', 'cron: "0 25 * * 1"', 'cron: "0 25',
     "schedules[0].cron: '0 25 * * 1' is not a five-field cron expression"),
    ("suite: weekly.yaml", "suite: nightly.yaml", "suite: nightly.yaml",
     "schedules[0].suite: suite file 'nightly.yaml' does not exist"),
    ("drills: all", "drills: [adapter-fail-open, no-such-drill]", "drills: [adapter",
     "schedules[0].drills[1]: no drill 'no-such-drill' in suite 'weekly'"),
    ("profile: drill", "profile: fast", "profile: fast",
     "schedules[0].profile: 'fast' is not one of 'drill', 'production'"),
    ("  keep: 52", "  keep: 1", "keep: 1", "history.keep: 1 is less than the minimum of 2"),
    ("    env: PFDRILL_SUMMARY_WEBHOOK", "    env: summary-webhook", "env: summary-webhook",
     "notify.webhook.env: 'summary-webhook' does not match"),
    ("  when: always", "  whenever: always", "whenever: always", "notify: unknown key 'whenever'"),
])
def test_schema_and_meaning_errors_name_the_file_and_line(schedule_file: Path, old: str, new: str,
                                                          where: str, message: str) -> None:
    err = _error(schedule_file, old, new)
    assert err.file == str(schedule_file)
    assert err.line == _line_of(schedule_file, where)
    assert err.message.startswith(message), err.message


def test_a_scenario_promise_must_be_kept(schedule_file: Path) -> None:
    text = schedule_file.read_text().replace("drills: all", "drills: [certificate-corruption]")
    schedule_file.write_text(text + "\nscenarios:\n  policy_adapter_failure: weekly\n")
    err = _error(schedule_file, "", "")
    assert err.line == _line_of(schedule_file, "policy_adapter_failure: weekly")
    assert "drill 'adapter-fail-open' is in no schedule that runs weekly" in err.message
    schedule_file.write_text(text + "\nscenarios:\n  no_such_thing: weekly\n")
    assert "unknown scenario 'no_such_thing'" in _error(schedule_file, "", "").message


def test_the_cli_exits_2_with_one_line(schedule_file: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "validate", "--file", str(schedule_file)]) == 0
    assert "1 schedule(s) valid; summary to $PFDRILL_SUMMARY_WEBHOOK" in capsys.readouterr().out
    schedule_file.write_text(schedule_file.read_text().replace("0 6 * * 1", "every monday"))
    assert main(["schedule", "validate", "--file", str(schedule_file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"pfdrill: error: {schedule_file}:{_line_of(schedule_file, 'every')}:")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(("cron", "frequency"), [
    ("*/5 * * * *", Frequency.HOURLY), ("0 * * * *", Frequency.HOURLY),
    ("30 5 * * *", Frequency.DAILY), ("0 6 * * 1-5", Frequency.WEEKLY),
    ("0 6 * * 1", Frequency.WEEKLY), ("0 6 1 * *", Frequency.MONTHLY),
    ("0 6 1,15 * *", Frequency.MONTHLY),
])
def test_a_cron_has_the_frequency_of_its_longest_gap(cron: str, frequency: Frequency) -> None:
    assert Frequency.of_cron(cron) is frequency
    assert frequency.covers(Frequency.MONTHLY) and Frequency.of_cron(frequency.cron) is frequency


def test_entries_are_due_within_the_window_after_their_fire(schedule_file: Path) -> None:
    entries = spec.load(schedule_file).entries
    monday_6 = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
    assert due.due(entries, monday_6) == list(entries)
    assert due.due(entries, monday_6 + dt.timedelta(minutes=90)) == list(entries)
    assert due.due(entries, monday_6 + dt.timedelta(hours=3)) == []
    assert due.due(entries, monday_6 - dt.timedelta(minutes=1)) == []


def test_locate_prefers_the_env_then_walks_up(schedule_file: Path, project: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PFDRILL_SCHEDULE", raising=False)
    assert spec.locate(cwd=project / "runbooks") == schedule_file
    monkeypatch.setenv("PFDRILL_SCHEDULE", "/elsewhere/schedule.yaml")
    assert spec.locate(cwd=project) == Path("/elsewhere/schedule.yaml")
    monkeypatch.delenv("PFDRILL_SCHEDULE")
    with pytest.raises(InvalidInput, match="no schedule file"):
        spec.locate(cwd=Path("/"))
