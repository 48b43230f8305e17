"""The executor end to end on bash, with a stand-in kubectl, the fake cluster and a real sink.

These start processes (bash, the wrappers, a local HTTP sink), so they carry
the ``servers`` marker; each runs in a second or two.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import InvalidInput
from pfdrill.model.evidence import CommandOutcome
from pfdrill.model.runbook import RunbookRun
from pfdrill.runbook import coverage, executor, parser
from pfdrill.runbook.inputs import DrillVars, Environment, Options
from pfdrill.sink.server import SinkFiles, SinkServer

pytestmark = pytest.mark.servers

# A stand-in kubectl: enough behaviour to exercise the executor without a cluster.
FAKE_KUBECTL = r"""#!/bin/bash
case "$1" in
  logs)
    if [[ " $* " == *" -f "* ]]; then
      while true; do echo "ts=2026-11-28T12:00:00.000Z level=WARNING event=decision tags=POLICY_VIOLATION"; sleep 0.2; done
    fi
    echo "ts=2026-11-28T12:00:00.000Z level=INFO event=decision tags=-";;
  top) echo "error: Metrics API not available" >&2; exit 1;;
  patch) echo 'Error from server (NotFound): configmaps "'"$3"'" not found' >&2; exit 1;;
  *) echo "kubectl $*";;
esac
"""


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SinkServer]:
    server = SinkServer(SinkFiles(tmp_path / "sink")).start()
    yield server
    server.shutdown()


@pytest.fixture
def env(tmp_path: Path, sink: SinkServer) -> Environment:
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
    return Environment(kubeconfig=str(tmp_path / "kubeconfig"), context="fake",
                       kubectl=str(kubectl), sink_url=sink.url)


@pytest.fixture
def cluster() -> FakeCluster:
    c = FakeCluster()
    c.add_namespace("production", {"pfdrill.dev/drills": "enabled"})
    c.add_configmap("production", "policy-config", {"enforcement_mode": "enforce"})
    c.add_configmap("production", "dfa-artifact", {"dfa.json": "{}\n", "dfa.json.sha256": "x  dfa.json\n"})
    return c


def run(tmp_path: Path, env: Environment, cluster: FakeCluster, body: str,
        options: Options | None = None, severity: str = "SEV-1") -> RunbookRun:
    path = tmp_path / "rb.md"
    path.write_bytes(b"# Runbook\n\n## Steps\n\n```bash\n" + body.encode("utf-8") + b"\n```\n")
    book = parser.parse_file(path)
    with executor.Session(book, env, cluster, DrillVars(severity=severity, incident_id="INC-T"),
                          options or Options(stream_seconds=1.0, command_timeout=10.0)) as s:
        return s.run(book.sections)


def test_shell_state_carries_from_command_to_command(tmp_path: Path, env: Environment,
                                                     cluster: FakeCluster) -> None:
    r = run(tmp_path, env, cluster, "export TS=42\nmkdir -p out\ncd out\necho \"$TS $(pwd)\"\n"
                                    "echo \"$SEVERITY $INCIDENT_ID\"")
    assert [x.outcome for x in r.results] == [CommandOutcome.OK] * 5
    assert r.results[3].stdout.startswith("42 ")
    assert r.results[3].stdout.strip().endswith("/out")
    assert r.results[4].stdout == "SEV-1 INC-T\n"


def test_the_sandbox_is_a_policy_repository(tmp_path: Path, env: Environment,
                                            cluster: FakeCluster) -> None:
    r = run(tmp_path, env, cluster, "git log --oneline --since='2 hours ago' --grep=policy\n"
                                    "git show HEAD~1:policy/policy-config.yaml\n"
                                    "sha256sum artifact/dfa.json\nls docs/runbooks")
    assert all(x.ok for x in r.results), coverage.table(r)
    assert len(r.results[0].stdout.splitlines()) == 2  # both policy commits of the last 2h
    assert "enforcement_mode: enforce" in r.results[1].stdout
    assert r.results[3].stdout.strip() == "rb.md"


def test_a_never_ending_command_is_bounded_and_its_output_kept(tmp_path: Path, env: Environment,
                                                               cluster: FakeCluster) -> None:
    r = run(tmp_path, env, cluster,
            "kubectl logs -n production -l app=sidecar-watcher -f | grep POLICY_VIOLATION")
    (res,) = r.results
    assert res.ok and res.bounded
    assert "POLICY_VIOLATION" in res.stdout
    assert any("bounded" in c.note for c in res.tool_calls)


def test_notifications_reach_the_sink_byte_for_byte(tmp_path: Path, env: Environment,
                                                    cluster: FakeCluster, sink: SinkServer) -> None:
    r = run(tmp_path, env, cluster,
            "curl -X POST $SECURITY_WEBHOOK -d '{\"text\":\"ğŸš¨ Policy enforcement disabled\"}'")
    (res,) = r.results
    assert res.ok and res.reason == "delivered (HTTP 200)"
    assert env.sink_url not in json.dumps(res.to_dict())  # webhook URLs are redacted
    records = [json.loads(ln) for ln in sink.files.journal.read_text().splitlines()]
    (rec,) = records
    assert rec["channel"] == "security"
    assert rec["body"] == '{"text":"ğŸš¨ Policy enforcement disabled"}'


def test_nothing_leaves_127_0_0_1(tmp_path: Path, env: Environment, cluster: FakeCluster,
                                  sink: SinkServer) -> None:
    r = run(tmp_path, env, cluster, "curl -X POST https://hooks.slack.com/services/X -d '{}'\n"
                                    "python3 -c \"import urllib.request as u; u.urlopen('http://example.com', timeout=3)\"")
    remote, python = r.results
    assert remote.outcome is CommandOutcome.NOT_EXECUTABLE
    assert "hooks.slack.com is not 127.0.0.1" in remote.reason
    assert python.outcome is CommandOutcome.FAILED  # the proxy variables point at a closed port
    assert not sink.files.journal.exists() or sink.files.journal.read_text() == ""


def test_judging_failures_and_limitations(tmp_path: Path, env: Environment,
                                          cluster: FakeCluster) -> None:
    r = run(tmp_path, env, cluster,
            "kubectl top pods -n production\n"
            "kubectl patch configmap policy-cnofig -n production --patch '{\"data\":{\"a\":\"b\"}}'\n"
            "./pfctl policy update --env production --file security-patch.yaml\n"
            "echo nothing | grep violation\n"
            "if true; then\n  false\nfi")
    top, patch, operator, grep, broken = r.results
    assert top.outcome is CommandOutcome.NOT_EXECUTABLE
    assert patch.outcome is CommandOutcome.FAILED and "policy-cnofig" in patch.reason
    assert operator.outcome is CommandOutcome.NOT_EXECUTABLE
    assert "security-patch.yaml" in operator.reason and operator.duration_s == 0.0
    assert grep.ok
    assert broken.outcome is CommandOutcome.FAILED
    failures = coverage.failures(r)
    assert failures[0].startswith("Steps: line 7: `kubectl patch configmap policy-cnofig")


def test_a_hanging_command_is_stopped_and_fails(tmp_path: Path, env: Environment,
                                                cluster: FakeCluster) -> None:
    r = run(tmp_path, env, cluster, "sleep 30", Options(command_timeout=1.0))
    (res,) = r.results
    assert res.outcome is CommandOutcome.FAILED and "did not finish within 1s" in res.reason
    assert res.duration_s < 10


def test_bash_errors_point_at_the_runbook_line(tmp_path: Path, env: Environment,
                                               cluster: FakeCluster) -> None:
    r = run(tmp_path, env, cluster, "echo ok\nno-such-program --flag")
    assert "rb.md: line 7: no-such-program: command not found" in r.results[1].stderr


def test_expectations_are_checked_after_their_section(tmp_path: Path, env: Environment,
                                                      cluster: FakeCluster) -> None:
    path = tmp_path / "rb.md"
    path.write_text("# R\n## Mitigate\n```bash\ncurl -X POST $SECURITY_WEBHOOK -d '{}'\n```\n"
                    "<!-- pfdrill: expect notification security >= 1 -->\n"
                    "<!-- pfdrill: expect configmap policy-config enforcement_mode == disabled -->\n"
                    "<!-- pfdrill: expect configmap policy-config enforcement_mode == x when SEVERITY == SEV-2 -->\n")
    book = parser.parse_file(path)
    with executor.Session(book, env, cluster, DrillVars(severity="SEV-1", incident_id="I"),
                          Options(stream_seconds=1.0)) as s:
        r = s.run(book.sections)
    sent, mode, other = r.expectations
    assert sent.ok and sent.observed == "1 security notification(s)"
    assert not mode.ok and mode.observed == "enforcement_mode=enforce"
    assert mode.after_line == 4
    assert other.ok and other.skipped
    assert not r.ok


def test_a_drill_runs_sections_one_by_one_in_one_sandbox(tmp_path: Path, env: Environment,
                                                         cluster: FakeCluster) -> None:
    from pfdrill.runbook import runner
    from pfdrill.settings.config import Config

    path = tmp_path / "rb.md"
    path.write_text("# R\n## Respond\n```bash\nexport MARK=$SEVERITY\necho respond > note\n```\n"
                    "## Recover\n```bash\necho \"$MARK $(cat note)\"\n```\n")
    config = Config(allowed_contexts=("fake",))
    r = runner.Runner(env, cluster, config, Options(stream_seconds=1.0))
    try:
        with pytest.raises(InvalidInput, match="no section named 'Rollback'"):
            r.validate(str(path), ["Respond", "Rollback"])
        first = r.run_section(str(path), "Respond", {"SEVERITY": "SEV-2", "INCIDENT_ID": "I-1"})
        second = r.run_section(str(path), "Recover", {"SEVERITY": "SEV-2"})
        assert first.ok and second.ok
        assert second.results[0].stdout == "SEV-2 respond\n"
        box = r.sandbox(str(path))
        assert box is not None
        # the next drill (another incident) starts from a fresh sandbox: nothing carries over
        third = r.run_section(str(path), "Recover", {"SEVERITY": "SEV-1", "INCIDENT_ID": "I-2"})
        assert r.sandbox(str(path)) != box
        assert third.results[0].stdout.startswith(" ")  # no MARK, no note from drill I-1
    finally:
        r.close()


def test_check_refuses_a_context_or_namespace_not_opted_in(tmp_path: Path, env: Environment,
                                                           cluster: FakeCluster) -> None:
    from pfdrill.errors import SafetyRefused
    from pfdrill.runbook import runner
    from pfdrill.settings.config import Config

    path = tmp_path / "rb.md"
    path.write_text("# R\n## S\n```bash\nkubectl scale deployment x --replicas=0\n```\n")
    with pytest.raises(SafetyRefused, match="not on the allow-list"):
        runner.check(path, env, cluster, Config(), DrillVars())
    cluster.add_namespace("production", {})
    with pytest.raises(SafetyRefused, match="not opted in"):
        runner.check(path, env, cluster, Config(allowed_contexts=("fake",)), DrillVars())
    assert cluster.mutations == []


def test_a_section_run_alone_finds_the_drills_incident_declared(
        tmp_path: Path, env: Environment, cluster: FakeCluster) -> None:
    r = run(tmp_path, env, cluster, './pfctl incident update --incident-id "$INCIDENT_ID" '
                                    '--status resolved --resolution done')
    (res,) = r.results
    assert res.ok, res.reason


def test_check_never_runs_code_that_does_not_render(tmp_path: Path, env: Environment,
                                                   cluster: FakeCluster) -> None:
    """A side effect hidden in a comment, a quote or an indented block does not happen."""
    from pfdrill.runbook import runner
    from pfdrill.settings.config import Config

    marks = {how: tmp_path / f"pwned-{how}" for how in ("comment", "list", "quote", "indent")}
    path = tmp_path / "rb.md"
    path.write_text(
        "# R\n## S\n```bash\necho visible\n```\n"
        f"<!--\n```bash\ntouch {marks['comment']}\n```\n-->\n"
        f"1. step\n\n   <!-- ```bash\n   touch {marks['list']}\n   ``` -->\n\n"
        f"> ```bash\n> touch {marks['quote']}\n> ```\n\n"
        f"    touch {marks['indent']}\n", encoding="utf-8")
    run = runner.check(path, env, cluster, Config(allowed_contexts=("fake",)), DrillVars(),
                       options=Options(stream_seconds=1.0, command_timeout=10.0))
    assert [r.command.text for r in run.results] == ["echo visible"]
    assert run.results[0].ok and run.results[0].stdout.strip() == "visible"
    assert not [m for m in marks.values() if m.exists()]
    assert [(b.line, b.why.value) for b in run.not_run] == [
        (7, "html-comment"), (13, "html-comment"), (17, "block-quote"), (21, "indented-code")]
    table = coverage.table(run)
    assert "NOT RUN" in table
    assert "line 7: bash block inside an HTML comment — not rendered, not run" in table
    assert RunbookRun.from_dict(json.loads(json.dumps(run.to_dict()))) == run
