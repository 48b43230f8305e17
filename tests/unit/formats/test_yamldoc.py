"""The one YAML loader: positions for errors, comment-preserving edits, refusals that keep a parse finite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc


def test_yaml_keeps_lines_and_refuses_duplicates() -> None:
    doc = yamldoc.loads("a: 1\nb:\n  c: [1, 2]\n  d: x\n", "f.yaml")
    assert doc.line(["b"]) == 2 and yamldoc.line_of(doc.root["b"], "d") == 4
    assert doc.line(["b", "c", 1]) == 3 and doc.line(["b", "nope", 3]) == 2
    assert doc.key_line(["b"], "d") == 4 and doc.text(4) == "  d: x"
    with pytest.raises(InvalidInput, match=r"f.yaml:2: not valid YAML: duplicate key 'a'"):
        yamldoc.loads("a: 1\na: 2\n", "f.yaml")


def test_reading_gives_builtin_types_and_yaml_1_2() -> None:
    doc = yamldoc.loads("f: 0.5\ns: |\n  two\n  lines\nb: true\nyes_is: yes\nhex: 0x10\n"
                        "when: 2026-01-02T03:04:05Z\nquoted: !!str 3\n", "f.yaml")
    root = doc.root
    assert [type(root[k]) for k in ("f", "s", "b", "yes_is", "hex", "quoted")] == [
        float, str, bool, str, int, str]
    assert (root["yes_is"], root["hex"], root["quoted"]) == ("yes", 16, "3")
    assert root["when"].isoformat() == "2026-01-02T03:04:05+00:00"
    json.dumps(yamldoc.plain({k: v for k, v in root.items() if k != "when"}))


@pytest.mark.parametrize(("text", "problem", "line"), [
    ("a: [1,\n", "expected the node content", 2),
    ("a: b: c\n", "mapping values are not allowed here", 1),
    ("a: !foo {x: 1}\n", "unsupported tag '!foo'", 1),
    ("x: 1\na: !!python/object:os.system x\n", "unsupported tag", 2),
    ("? [a, b]\n: 1\n", "a mapping key must be a string or a number", 1),
    ("a: 2024-13-45\n", "month must be in 1..12", 1),
    ("a: \x00\n", "character U+0000 is not allowed", 1),
    ("- " * 100 + "x\n", "nested more than 64 levels deep", 1),
])
def test_what_is_not_yaml_names_its_line(text: str, problem: str, line: int) -> None:
    with pytest.raises(InvalidInput) as err:
        yamldoc.loads(text, "f.yaml")
    assert err.value.file == "f.yaml" and err.value.line == line, err.value.one_line()
    assert err.value.message.startswith("not valid YAML: ") and problem in err.value.message


def test_an_alias_bomb_is_refused_not_expanded() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(InvalidInput, match="more than 100000 values once aliases are expanded"):
        yamldoc.loads("\n".join(lines) + "\n", "bomb.yaml")
    shared = yamldoc.loads("base: &b {k: 1}\none: *b\ntwo: {<<: *b, z: 2}\n", "f.yaml").root
    assert shared["one"] == {"k": 1} and shared["two"] == {"z": 2, "k": 1}


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="file does not exist"):
        yamldoc.load(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(InvalidInput, match=r"latin.yaml:2: not UTF-8 text"):
        yamldoc.load(latin)


def test_an_edit_keeps_comments_styles_and_layout(tmp_path: Path) -> None:
    text = ("# the rules\ngroups:\n  - name: g  # first group\n    rules:\n"
            "      - alert: A\n        expr: >-\n          sum(rate(a_total[5m]))\n"
            "          / sum(rate(b_total[5m])) > 0.01\n        for: '1m'\n")
    path = tmp_path / "rules.yml"
    path.write_text(text)
    doc = yamldoc.load(path, edit=True)
    assert yamldoc.dumps(doc) == text  # unchanged round trip is byte-identical
    rule = doc.root["groups"][0]["rules"][0]
    yamldoc.replace_text(rule, "expr", str(rule["expr"]).replace("0.01", "0.005"))
    rule["labels"] = yamldoc.new_mapping([("severity", "SEV-1")])
    yamldoc.write(doc)
    assert path.read_text() == text.replace("> 0.01", "> 0.005") + (
        "        labels:\n          severity: SEV-1\n")


def test_documents_in_a_stream_keep_their_own_lines() -> None:
    docs = yamldoc.loads_all("a: 1\n---\nb:\n  c: 2\n", "m.yaml")
    assert [d.root for d in docs] == [{"a": 1}, {"b": {"c": 2}}]
    assert docs[1].line(["b", "c"]) == 4
