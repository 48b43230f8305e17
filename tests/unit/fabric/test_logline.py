from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pfdrill.fabric.logline import LogLine, parse


def test_render_and_parse_round_trip() -> None:
    line = LogLine("WARNING", "decision", ("REJECT", "POLICY_VIOLATION"),
                   {"principal": "svc-a", "rule": "dfa:x state=a event=b", "empty": ""}, ts="T")
    text = line.render()
    assert text.startswith("ts=T level=WARNING event=decision tags=REJECT,POLICY_VIOLATION ")
    assert parse(text) == line


def test_parse_tolerates_a_kubectl_prefix_and_rejects_noise() -> None:
    got = parse("[pod/sidecar-watcher-abc/sidecar-watcher] ts=T level=INFO event=x tags=- a=1")
    assert got is not None and got.fields == {"a": "1"} and got.tags == ()
    assert parse("Traceback (most recent call last):") is None


@given(st.text())
def test_values_can_never_forge_a_second_line(value: str) -> None:
    line = LogLine("INFO", "decision", (), {"principal": value}, ts="T")
    text = line.render()
    assert "\n" not in text and "\r" not in text
    parsed = parse(text)
    assert parsed is not None and parsed.fields["principal"] == value


def test_a_value_ending_in_a_newline_is_quoted() -> None:
    # hypothesis, 2026-12-04: `^…$` matched "0\n" (a regex `$` matches before a final
    # newline), so the value went out bare and forged a second line
    line = LogLine("INFO", "decision", (), {"principal": "0\n"}, ts="T").render()
    assert "\n" not in line and 'principal="0\\n"' in line
