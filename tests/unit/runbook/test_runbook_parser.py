"""Markdown runbooks into sections and commands: the seed runbook and the pathological cases."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from pfdrill.errors import InvalidInput
from pfdrill.model.runbook import Runbook
from pfdrill.runbook import parser

SEED = Path(__file__).parent / "data" / "seed-runbook.md"


def parse(text: str | bytes, **kw: bool) -> Runbook:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parser.parse_bytes(data, "rb.md", **kw)


def test_the_seed_runbook_parses_into_its_sections_and_commands() -> None:
    book = parser.parse_file(SEED)
    assert book.title == "Policy Enforcement Incident Response Runbook"
    assert book.encoding == "utf-8"
    assert len(book.commands) == 62
    names = [s.name for s in book.sections if s.commands]
    assert names[0] == "Initial Response / Incident Detection"
    assert "Incident Response Actions / Immediate Mitigation" in names
    assert names[-1] == "Prevention / Testing Improvements"
    mitigation = next(s for s in book.sections if s.name.endswith("Immediate Mitigation"))
    first, second = mitigation.commands
    assert first.text.startswith('if [ "$SEVERITY" = "SEV-1" ]; then')
    assert first.text.endswith("fi")
    assert (first.line, first.end_line) == (126, 135)
    assert first.description == "For policy enforcement failures"
    assert second.line == 138


def test_comments_describe_the_commands_of_their_paragraph() -> None:
    book = parser.parse_file(SEED)
    detection = book.sections[3]
    assert detection.name == "Initial Response / Incident Detection"
    assert [c.description for c in detection.commands] == [
        "Check current alerts", "Check policy enforcement status", "Verify system health",
        "Verify system health"]


def test_multi_line_commands_and_heredocs_are_kept_whole() -> None:
    book = parser.parse_file(SEED)
    curl = next(c for c in book.commands if "SLACK_WEBHOOK" in c.text)
    assert curl.text.count("\n") == 2 and curl.text.endswith("Declared\"}'")
    report = next(c for c in book.commands if c.text.startswith("cat > incident-report"))
    assert report.text.endswith("\nEOF")
    assert "$FOLLOW_UP_ACTIONS" in report.text
    assert (report.line, report.end_line) == (229, 249)


def test_mojibake_is_kept_byte_for_byte() -> None:
    raw = SEED.read_bytes()
    book = parser.parse_file(SEED)
    curl = next(c for c in book.commands if "SECURITY_WEBHOOK" in c.text)
    assert "ğŸš¨" in curl.text
    body = parser.encode_command(book, curl.text)
    assert body.split(b"\n")[0].strip() in raw


def test_tilde_fences_nested_list_fences_and_untagged_shell_blocks() -> None:
    book = parse(
        "# T\n\n## Steps\n\n"
        "1. First:\n\n"
        "   ```bash\n"
        "   kubectl get pods -n production\n"
        "   ```\n\n"
        "2. Then:\n\n"
        "    ~~~\n"
        "    ./pfctl status --env production\n"
        "    ~~~\n\n"
        "```json\n{\"not\": \"shell\"}\n```\n\n"
        "```\nsome: yaml\n```\n")
    cmds = book.commands
    assert [c.text for c in cmds] == ["kubectl get pods -n production",
                                      "./pfctl status --env production"]
    blocks = book.sections[0].blocks
    assert [b.shell for b in blocks] == [True, True, False, False]
    assert blocks[1].language == ""


def test_console_blocks_run_only_prompted_lines() -> None:
    book = parse("# T\n## S\n```console\n$ kubectl get ns\nNAME STATUS\nproduction Active\n"
                 "$ echo ok\nok\n```\n")
    assert [c.text for c in book.commands] == ["kubectl get ns", "echo ok"]


def test_setext_headings_and_crlf() -> None:
    book = parse("Title\n=====\r\n\r\nPart\r\n----\r\n\r\n```sh\r\necho hi\r\n```\r\n")
    assert book.sections[-1].name == "Part"
    assert book.commands[0].text == "echo hi"
    assert any("CRLF" in n for n in book.notes)


def test_other_encodings_fall_back_and_round_trip() -> None:
    data = "# Runbook\n## Über\n```bash\necho 'café ±'\n```\n".encode("latin-1")
    book = parse(data)
    assert book.encoding == "cp1252"
    assert book.sections[0].name == "Über"
    assert parser.encode_command(book, book.commands[0].text) == "echo 'café ±'".encode("latin-1")
    utf16 = codecs.BOM_UTF16_LE + "# R\n## S\n```bash\necho ü\n```\n".encode("utf-16-le")
    book16 = parse(utf16)
    assert book16.encoding == "utf-16"
    assert parser.encode_command(book16, book16.commands[0].text) == "echo ü".encode()


def test_directives_are_collected_per_section() -> None:
    book = parse("# T\n## S\n```bash\necho\n```\n"
                 "<!-- pfdrill: expect configmap policy-config enforcement_mode == enforce -->\n")
    (d,) = book.sections[0].directives
    assert d.line == 6
    assert d.text == "expect configmap policy-config enforcement_mode == enforce"


@pytest.mark.parametrize("text, message, line", [
    ("# T\n## S\n```bash\necho hi\n", "code fence ``` opened here is never closed", 3),
    ("# T\n## S\n```bash\ncat > f << EOF\nbody\n```\n", "heredoc <<EOF is not terminated", 4),
    ("# T\n## S\n```bash\nif true; then\n  echo\n```\n", "'if' is never closed", 4),
    ("# T\n## S\n```bash\necho 'x\n```\n", "unterminated single quote", 4),
    ("# T\n## S\n```bash\nfi\n```\n", "shell syntax: unexpected 'fi'", 4),
])
def test_parse_errors_name_file_line_and_text(text: str, message: str, line: int) -> None:
    with pytest.raises(InvalidInput) as err:
        parse(text)
    assert message in err.value.message
    assert err.value.file == "rb.md"
    assert err.value.line == line
    assert err.value.text


def test_a_runbook_without_bash_blocks_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no bash code blocks"):
        parse("# Title\n\nJust prose.\n\n```yaml\na: 1\n```\n")


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "image.md"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(InvalidInput, match="binary file") as err:
        parser.parse_file(p)
    assert err.value.file == str(p)


def test_a_missing_file_and_a_directory_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        parser.parse_file(tmp_path / "nope.md")
    with pytest.raises(InvalidInput, match="is a directory"):
        parser.parse_file(tmp_path)
