"""Prometheus text exposition through prometheus_client's parser: escapes, histograms, bad input."""

from __future__ import annotations

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.faults.metrics import Scrape
from pfdrill.formats import exposition

TEXT = r"""# HELP log_lines_total Lines by message.
# TYPE log_lines_total counter
log_lines_total{msg="a\nb",path="C:\\x",quote="say \"hi\""} 3
# TYPE monitor_duration_seconds histogram
monitor_duration_seconds_bucket{le="0.005"} 10
monitor_duration_seconds_bucket{le="+Inf"} 12
monitor_duration_seconds_sum 0.07
monitor_duration_seconds_count 12
untyped_thing{pod="w-1"} 4
bare 2.5e-3
"""


def test_escaped_label_values_are_unescaped_once() -> None:
    series = exposition.samples(TEXT)
    labels = {"msg": "a\nb", "path": "C:\\x", "quote": 'say "hi"'}
    assert series[exposition.series_key("log_lines_total", labels)] == 3
    assert Scrape("w", 0, {"p": series}).total("log_lines_total", labels) == 3
    # The hand-written reader this replaces read msg="a\nb" as "anb".
    assert Scrape("w", 0, {"p": series}).total("log_lines_total", {**labels, "msg": "anb"}) == 0


def test_histograms_and_untyped_metrics() -> None:
    series = exposition.samples(TEXT)
    assert series['monitor_duration_seconds_bucket{le="+Inf"}'] == 12
    assert series["monitor_duration_seconds_sum"] == pytest.approx(0.07)
    assert series["monitor_duration_seconds_count"] == 12
    assert series['untyped_thing{pod="w-1"}'] == 4 and series["bare"] == pytest.approx(0.0025)


@pytest.mark.parametrize(("text", "line"), [
    ("ok 1\nbroken{ 3\n", 2),
    ('ok 1\nx{a="1"} abc\n', 2),
    ("x{a=1} 3\n", 1),
])
def test_bad_input_is_a_pfdrill_error_naming_the_line(text: str, line: int) -> None:
    with pytest.raises(InvalidInput) as err:
        exposition.samples(text, "http://10.0.0.1:8080/metrics")
    assert err.value.file == "http://10.0.0.1:8080/metrics" and err.value.line == line
    assert err.value.message.startswith("not Prometheus text exposition: ")


def test_names_and_their_labels() -> None:
    found = exposition.names(TEXT)
    assert found["log_lines_total"] == {"msg", "path", "quote"}
    assert found["log_lines"] == {"msg", "path", "quote"}  # a counter answers to both names
    assert found["monitor_duration_seconds_bucket"] == {"le"}
    assert found["untyped_thing"] == {"pod"} and found["bare"] == set()
    with pytest.raises(InvalidInput, match=r"^pod w-1:2: not Prometheus text exposition"):
        exposition.names("ok 1\nbroken{ 3\n", "pod w-1")
