"""Where a command ends, and what it runs: the bash lexer behind the runbook parser."""

from __future__ import annotations

import pytest

from pfdrill.runbook import lexer


def lines_until_complete(text: str) -> list[bool]:
    scanner = lexer.Scanner()
    out = []
    for i, line in enumerate(text.split("\n")):
        scanner.feed(line, i)
        out.append(scanner.complete())
    return out


@pytest.mark.parametrize("text, expected", [
    ("kubectl get pods -n production", [True]),
    ("curl -X POST $SLACK_WEBHOOK \\\n  -H 'x' \\\n  -d '{}'", [False, False, True]),
    ("if [ \"$SEVERITY\" = \"SEV-1\" ]; then\n  kubectl scale x\nfi", [False, False, True]),
    ("for i in 1 2; do\n  echo $i\ndone", [False, False, True]),
    ("while true; do sleep 1; done", [True]),
    ("cat > f << EOF\nfi\ndone\nEOF", [False, False, False, True]),
    ("cat <<-'END'\n\tbody\n\tEND", [False, False, True]),
    ("kubectl logs x |\n  grep y", [False, True]),
    ("a &&\nb", [False, True]),
    ("echo 'multi\nline'", [False, True]),
    ("echo \"$(date\n)\"", [False, True]),
    ("case $x in\n  a) echo a;;\nesac", [False, False, True]),
    ("f() {\n  echo hi\n}", [False, False, True]),
    ("( cd x\n  ls )", [False, True]),
    ("echo done # if this were a keyword it would open a block", [True]),
    ("echo fi", [True]),
    ("echo \"if\" 'for'", [True]),
])
def test_command_ends_where_bash_would_end_it(text: str, expected: list[bool]) -> None:
    assert lines_until_complete(text) == expected


@pytest.mark.parametrize("text, problem, line", [
    ("cat > f << EOF\nbody", "heredoc <<EOF is not terminated", 0),
    ("if true; then\n  echo", "'if' is never closed with 'fi'", 0),
    ("echo 'open\nstill", "unterminated single quote", 0),
    ("echo \"open", "unterminated double quote", 0),
    ("echo $(date", "unterminated $( ... )", 0),
    ("kubectl logs x |", "'|' with no command after it", 0),
    ("echo a \\", "line continuation", 0),
])
def test_what_is_still_open_and_where(text: str, problem: str, line: int) -> None:
    scanner = lexer.Scanner()
    for i, ln in enumerate(text.split("\n")):
        scanner.feed(ln, i)
    found = scanner.problem()
    assert found is not None
    assert problem in found[0]
    assert found[1] == line


def test_a_closing_keyword_without_its_opener_is_a_syntax_error() -> None:
    scanner = lexer.Scanner()
    with pytest.raises(lexer.ShellSyntax, match="unexpected 'fi'"):
        scanner.feed("fi", 0)


def test_simple_commands_remove_quotes_and_keep_expansions() -> None:
    cmds = lexer.simple_commands(
        "if [ \"$SEVERITY\" = \"SEV-1\" ]; then\n"
        "  kubectl patch configmap policy-config -n production --patch '{\"data\":{\"a\":\"b\"}}'\n"
        "fi")
    assert [c.name for c in cmds] == ["[", "kubectl"]
    assert cmds[1].args[-1] == '{"data":{"a":"b"}}'
    assert cmds[0].words[1] == "$SEVERITY"


def test_redirections_and_heredocs_are_not_arguments() -> None:
    (cat,) = lexer.simple_commands("cat > report-$(date +%s).md << EOF\nbody\nEOF")
    assert cat.words == ("cat",)
    assert cat.writes_to() == ("report-$(date +%s).md",)
    assert cat.has_heredoc
    kubectl, grep = lexer.simple_commands("kubectl logs x 2>/dev/null | grep -E 'A|B' > out.log")
    assert kubectl.args == ("logs", "x")
    assert kubectl.redirects == ((">", "/dev/null"),)
    assert grep.writes_to() == ("out.log",)


def test_assignments_and_loop_headers_are_not_commands() -> None:
    cmds = lexer.simple_commands("X=1 kubectl get pods\nfor p in a b; do echo $p; done")
    assert [c.name for c in cmds] == ["kubectl", "echo"]
    assert cmds[0].args == ("get", "pods")


def test_a_quoting_mistake_splits_words_the_way_bash_does() -> None:
    # The seed runbook nests single quotes inside a single-quoted JSON body.
    (curl,) = lexer.simple_commands(
        "curl -X POST $W -d '{\"text\":\"Next: $(date -d '+2 days')\"}'")
    assert curl.args[-2:] == ('{"text":"Next: $(date -d +2', 'days)"}')
