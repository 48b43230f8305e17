"""Signal shapes: declared in shapes.yaml, read from the rules, refused when the two disagree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pfdrill.detect import shape
from pfdrill.detect.shape import Shape
from pfdrill.errors import InvalidInput
from pfdrill.obs import profile as profiles
from pfdrill.obs import rules

ALERTS = rules.alerts_dir()


def _rules(source: Path = ALERTS / rules.RULES_FILE, profile: str = "drill") -> rules.RuleSet:
    return rules.parse(rules.render(source, profiles.get(profile)), source)


@pytest.mark.parametrize("profile", ["drill", "production"])
def test_every_alert_of_the_shipped_rules_has_a_shape(profile: str) -> None:
    table = shape.load(_rules(profile=profile))
    assert set(table.alerts) == {a.name for a in _rules().alerts}
    window = "30s" if profile == "drill" else "5m"
    reject = table.signals["reject_rate_ratio"]
    assert (reject.shape, reject.of, reject.denominator) == (Shape.RATE, "reject_rate", "")
    assert reject.numerator == f"sum(rate(permit_rejects_total[{window}]))"
    assert reject.relative == shape.Relative("reject_rate", "reject_rate", floor=0.1)
    latency = table.signals["latency_degradation"]
    assert latency.relative == shape.Relative("latency_mean_seconds", "latency_mean_seconds",
                                              floor=0.005, offset=1.0)
    assert latency.denominator == f"sum(rate(monitor_duration_seconds_count[{window}]))"
    cert = table.signals["cert_failure_ratio"]
    assert cert.numerator.startswith("(sum(rate(certs_total") and cert.numerator.endswith(")")
    medium = table.of_alert("RejectRateSpikeMedium")
    assert medium is not None and str(medium[1]) == ">= 2 <= 10"


def test_split_division_only_at_the_top_level() -> None:
    assert shape.split_division("sum(rate(a[1m])) / sum(rate(b{x=\"a/b\"}[1m]))") == (
        "sum(rate(a[1m]))", 'sum(rate(b{x="a/b"}[1m]))')
    assert shape.split_division("(a / b)") == ("(a / b)", "")
    with pytest.raises(ValueError, match="more than one"):
        shape.split_division("a / b / c")


def _copy(tmp_path: Path, shapes_text: str | None = None, rules_edit: tuple[str, str] | None = None
          ) -> tuple[Path, Path]:
    shutil.copytree(ALERTS, tmp_path / "alerts")
    shapes_file = tmp_path / "alerts" / shape.SHAPES_FILE
    if shapes_text is not None:
        shapes_file.write_text(shapes_text)
    source = tmp_path / "alerts" / rules.RULES_FILE
    if rules_edit is not None:
        text = source.read_text()
        assert rules_edit[0] in text
        source.write_text(text.replace(*rules_edit))
    return shapes_file, source


def test_a_declared_shape_that_disagrees_with_its_rule_is_refused_with_its_line(tmp_path: Path) -> None:
    text = (ALERTS / shape.SHAPES_FILE).read_text()
    shapes_file, source = _copy(tmp_path, text.replace("cert_failure_ratio: rate_ratio",
                                                       "cert_failure_ratio: gauge"))
    line = next(i for i, ln in enumerate(shapes_file.read_text().splitlines(), 1)
                if ln.startswith("  cert_failure_ratio:"))
    with pytest.raises(InvalidInput) as caught:
        shape.load(_rules(source), shapes_file)
    assert caught.value.file == str(shapes_file) and caught.value.line == line
    assert "declared gauge, but pfdrill:cert_failure_ratio is a rate over a window" in str(caught.value)


def test_a_histogram_mean_must_divide_sum_by_count(tmp_path: Path) -> None:
    text = (ALERTS / shape.SHAPES_FILE).read_text()
    shapes_file, source = _copy(tmp_path, text.replace("witness_failure_ratio: rate_ratio",
                                                       "witness_failure_ratio: histogram_mean"))
    with pytest.raises(InvalidInput, match="not rate\\(<h>_sum\\) / rate\\(<h>_count\\)"):
        shape.load(_rules(source), shapes_file)


def test_a_signal_without_a_shape_is_named_with_its_alert(tmp_path: Path) -> None:
    text = (ALERTS / shape.SHAPES_FILE).read_text()
    shapes_file, source = _copy(tmp_path, text.replace("  ni_reject_rate: rate\n", ""))
    with pytest.raises(InvalidInput, match="no shape for signal ni_reject_rate \\(alert NiMonitorRejects"):
        shape.load(_rules(source), shapes_file)


def test_an_unknown_shape_word_is_refused(tmp_path: Path) -> None:
    text = (ALERTS / shape.SHAPES_FILE).read_text()
    shapes_file, source = _copy(tmp_path, text.replace("sidecars_up: gauge", "sidecars_up: level"))
    with pytest.raises(InvalidInput, match="unknown shape 'level'"):
        shape.load(_rules(source), shapes_file)


def test_an_alert_condition_that_is_not_a_comparison_is_refused(tmp_path: Path) -> None:
    shapes_file, source = _copy(tmp_path, rules_edit=(
        "expr: pfdrill:ni_reject_rate > 1", "expr: pfdrill:ni_reject_rate > 1 and on() vector(1)"))
    with pytest.raises(InvalidInput, match="alert NiMonitorRejects: cannot read its condition"):
        shape.load(_rules(source), shapes_file)
