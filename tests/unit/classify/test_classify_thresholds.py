"""The thresholds table: the shipped one is valid; every kind of bad table names file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.classify import runbook_table, thresholds
from pfdrill.errors import InvalidInput
from pfdrill.model.severity import Severity
from pfdrill.model.signals import Indicator

SHIPPED = thresholds.default_path()


def test_the_shipped_table_covers_the_runbook() -> None:
    table = thresholds.load()
    assert table.tolerance == 0.02
    assert table.floor("reject_rate") == 0.1
    items = {r.item for r in table.rows} | set(table.not_measured)
    assert items == {b for bullets in runbook_table.BUILTIN.items.values() for b in bullets}
    cert = table.row("cert_verification_failures")
    assert cert is not None and cert.severity is Severity.SEV1 and cert.condition == "> 0.01"
    medium = table.row("performance_degradation_medium")
    assert medium is not None and medium.condition == ">= 0.2 and <= 0.5"
    assert medium.matches(0.2) and medium.matches(0.5) and not medium.matches(0.51)
    assert set(table.not_measured) == {"Documentation updates needed"}


def _write(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text()
    assert old in text, old
    path = tmp_path / "thresholds.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def _error(path: Path) -> str:
    with pytest.raises(InvalidInput) as exc:
        thresholds.load(path)
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_unknown_severity_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "  SEV-3:", "  SEV-5:")
    assert _error(path).startswith(f"{path}:{_line_of(path, 'SEV-5:')}: unknown severity 'SEV-5'")


def test_missing_row_names_the_runbook_bullet(tmp_path: Path) -> None:
    path = _write(tmp_path, "    - item: Witness validation failures > 5%\n      rows:\n"
                  "        - {id: witness_validation_failures, signal: witness_failure_ratio, above: 0.05}\n", "")
    message = _error(path)
    assert message.startswith(f"{path}:{_line_of(path, 'SEV-2:')}: missing row: SEV-2 "
                              "'Witness validation failures > 5%'")


def test_a_bullet_without_rows_needs_a_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, "      not_measured: judged by people after the incident; no live signal says it\n", "")
    assert "missing row: SEV-4 'Documentation updates needed'" in _error(path)


@pytest.mark.parametrize(("old", "new", "needle", "expected"), [
    ("signal: ni_reject_rate,", "signal: ni_rejects,", "ni_rejects", "unknown signal 'ni_rejects'"),
    ("{id: adapter_errors,", "{id: ni_monitor_rejects,", "signal: adapter_error_ratio",
     "duplicate row id 'ni_monitor_rejects'"),
    ("above: 0.05}", "above: 5%}", "above: 5%", "above must be a number"),
    ("- item: NI monitor reject rate > 1/sec", "- item: NI rejects > 1/sec", "NI rejects",
     "is not a bullet of the runbook's table"),
    ("signal: latency_degradation, at_least: 0.2, at_most: 0.5}",
     "signal: latency_degradation, at_least: 0.2, at_most: 0.4}",
     "performance_degradation_high", "must meet exactly"),
    ("{id: reject_rate_spike_high, signal: reject_rate_ratio, above: 10}",
     "{id: reject_rate_spike_high, signal: reject_rate_ratio, above: 10, below: 20}",
     "reject_rate_spike_high", "worse values of reject_rate_ratio would match no row"),
    ("{id: bridge_guarantee_failure, signal: bridge_guarantee_ok, below: 1}",
     "{id: bridge_guarantee_failure, signal: bridge_guarantee_ok, above: 0}",
     "bridge_guarantee_failure", "gets worse as it falls, so it needs a upper"),
    ("  tolerance: 0.02", "  tolerance: 0.02", "tolerance", ""),  # placeholder, replaced below
])
def test_bad_rows_are_refused_with_their_line(tmp_path: Path, old: str, new: str, needle: str,
                                             expected: str) -> None:
    if not expected:
        path = _write(tmp_path, "tolerance: 0.02", "tolerance: 0.02\nseverity_levels: 4")
        needle, expected = "severity_levels", "unknown key 'severity_levels'"
    else:
        path = _write(tmp_path, old, new)
    message = _error(path)
    assert message.startswith(f"{path}:{_line_of(path, needle)}: "), message
    assert expected in message


def test_severities_must_not_fall_as_a_signal_worsens(tmp_path: Path) -> None:
    # Swap the SEV-2 and SEV-4 latency rows: slower would then be less severe.
    path = _write(tmp_path, "{id: performance_degradation_high, signal: latency_degradation, above: 0.5}",
                  "{id: performance_degradation_high, signal: latency_degradation, at_least: 0.1, below: 0.2}")
    path.write_text(path.read_text().replace(
        "{id: performance_degradation_minor, signal: latency_degradation, at_least: 0.1, below: 0.2}",
        "{id: performance_degradation_minor, signal: latency_degradation, above: 0.5}"))
    message = _error(path)
    assert message.startswith(f"{path}:{_line_of(path, 'performance_degradation_medium')}: ")
    assert "is worse than row 'performance_degradation_high' (SEV-2) but less severe" in message


def test_item_under_the_wrong_severity(tmp_path: Path) -> None:
    path = _write(tmp_path, "  SEV-4:\n    - item: Minor performance issues",
                  "  SEV-4:\n    - item: Minor configuration issues")
    assert "listed under SEV-4 here but under SEV-3 in the runbook" in _error(path)


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("severities:\n  SEV-1: [\n")
    assert _error(path).startswith(f"{path}:3: not valid YAML")


def _runbook(items: dict[Severity, tuple[str, ...]]) -> str:
    lines = ["# Runbook", "", "### Severity Levels", ""]
    for number, (severity, bullets) in enumerate(items.items(), start=1):
        lines += [f"{number}. **{severity.value} (Level)**", *(f"   - {b}" for b in bullets), ""]
    return "\n".join([*lines, "## Initial Response", ""])


def test_a_runbook_can_supply_the_table(tmp_path: Path) -> None:
    items = dict(runbook_table.BUILTIN.items)
    items[Severity.SEV1] = (*items[Severity.SEV1], "Brand new failure mode")
    runbook = tmp_path / "rb.md"
    runbook.write_text(_runbook(items))
    table = runbook_table.load(runbook)
    assert table.items == items
    with pytest.raises(InvalidInput, match="missing row: SEV-1 'Brand new failure mode'"):
        thresholds.load(SHIPPED, table)
    del items[Severity.SEV1]
    runbook.write_text(_runbook(items))
    with pytest.raises(InvalidInput, match="item 'Policy enforcement completely disabled' is not a "
                                           "bullet of the runbook's table"):
        thresholds.load(SHIPPED, runbook_table.load(runbook))


def test_the_builtin_table_is_the_seed_runbooks() -> None:
    seed = Path("/work/shared/seeds/policy-enforcement-incident-response-runbook.md")
    text = seed.read_text() if seed.exists() else None
    if text is None:
        # The seed lives outside the repository; the copy under runbooks/ is the same file.
        candidates = sorted(Path(__file__).resolve().parents[3].glob("runbooks/*.md"))
        assert candidates, "no runbook to compare the built-in table with"
        text = candidates[0].read_text()
    assert runbook_table.parse(text, "seed").items == runbook_table.BUILTIN.items


def test_every_indicator_with_rows_is_known() -> None:
    table = thresholds.load()
    assert {r.indicator for r in table.rows} == set(Indicator)
