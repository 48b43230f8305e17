"""Judging commands by what they are for, and verifying that changes took effect."""

from __future__ import annotations

import datetime as dt

import pytest

from pfdrill.cluster.fake import FakeCluster
from pfdrill.model.evidence import CommandOutcome
from pfdrill.model.runbook import Command, ToolCall
from pfdrill.runbook import intent, judge, verify
from pfdrill.runbook.audit import Call
from pfdrill.runbook.inputs import Options

NOW = dt.datetime.now(dt.UTC).isoformat()


def call(tool: str, *argv: str, rc: int | None = 0, stdout: str = "", stderr: str = "",
         http: int | None = None, refused: bool = False, malformed: bool = False,
         verdict: str = "", detail: str = "", note: str = "") -> Call:
    return Call(ToolCall(tool, argv, rc, NOW, 0.1, note=note, http_status=http, refused=refused),
                stdout=stdout, stderr=stderr, malformed=malformed, verdict=verdict,
                verdict_detail=detail)


@pytest.fixture
def cluster() -> FakeCluster:
    c = FakeCluster()
    c.add_namespace("production")
    c.add_configmap("production", "policy-config", {"enforcement_mode": "enforce"})
    c.add_deployment("production", "sidecar-watcher", 2)
    return c


def ctx(cluster: FakeCluster) -> verify.Context:
    return verify.Context(cluster, None, Options(settle_seconds=0.3, config_seconds=0.3),
                          "production")


def observe(text: str, exit_status: int | None = 0, *calls: Call, timed_out: bool = False,
            written: tuple[tuple[str, int], ...] = (), stderr: str = "") -> judge.Observed:
    return judge.Observed(Command("S", 1, 1, text), intent.classify(text), exit_status,
                          timed_out, intent.streams(text), 5.0, calls, written, stderr)


PATCH = ("patch", "configmap", "policy-config", "-n", "production", "--patch")


def test_grep_finding_nothing_is_an_answer(cluster: FakeCluster) -> None:
    obs = observe("kubectl logs -l app=x | grep REJECT", 1, call("kubectl", "logs", "-l", "app=x"))
    assert judge.judge(obs, ctx(cluster)).outcome is CommandOutcome.OK


def test_grep_failing_otherwise_is_a_failure(cluster: FakeCluster) -> None:
    obs = observe("grep -E '(' f", 2, stderr="grep: Unmatched ( or \\(")
    j = judge.judge(obs, ctx(cluster))
    assert j.outcome is CommandOutcome.FAILED and "Unmatched" in j.reason


def test_a_failed_kubectl_in_a_pipeline_is_not_hidden_by_grep(cluster: FakeCluster) -> None:
    obs = observe("kubectl logs -l app=x | grep REJECT", 1,
                  call("kubectl", "logs", "-l", "app=x", rc=1, stderr="error: namespace missing"))
    j = judge.judge(obs, ctx(cluster))
    assert j.outcome is CommandOutcome.FAILED and "namespace missing" in j.reason


def test_a_failure_the_command_handles_is_its_own_business(cluster: FakeCluster) -> None:
    obs = observe("kubectl top pods || kubectl get pods", 0,
                  call("kubectl", "top", "pods", rc=1, stderr="error: Metrics API not available"),
                  call("kubectl", "get", "pods"))
    assert judge.judge(obs, ctx(cluster)).outcome is CommandOutcome.OK


def test_an_environment_limitation_is_not_executable(cluster: FakeCluster) -> None:
    obs = observe("kubectl top pods -n production", 1,
                  call("kubectl", "top", "pods", rc=1, stderr="error: Metrics API not available"))
    j = judge.judge(obs, ctx(cluster))
    assert j.outcome is CommandOutcome.NOT_EXECUTABLE and "metrics.k8s.io" in j.reason


def test_a_patch_of_a_configmap_that_does_not_exist_fails(cluster: FakeCluster) -> None:
    text = "kubectl patch configmap policy-cnofig -n production --patch '{}'"
    obs = observe(text, 1, call("kubectl", "patch", "configmap", "policy-cnofig", "-n",
                                "production", "--patch", "{}", rc=1,
                                stderr='Error from server (NotFound): configmaps "policy-cnofig" not found'))
    j = judge.judge(obs, ctx(cluster))
    assert j.outcome is CommandOutcome.FAILED
    assert 'configmaps "policy-cnofig" not found' in j.reason


def test_a_patch_that_does_not_read_back_fails(cluster: FakeCluster) -> None:
    text = "kubectl patch configmap policy-config -n production --patch '...'"
    obs = observe(text, 0, call("kubectl", *PATCH, '{"data":{"enforcement_mode":"disabled"}}'))
    j = judge.judge(obs, ctx(cluster))  # the fake cluster still says enforce
    assert j.outcome is CommandOutcome.FAILED
    assert "reads back enforcement_mode='enforce'" in j.reason


def test_a_value_the_fabric_refuses_fails_even_when_kubectl_succeeded(cluster: FakeCluster) -> None:
    cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "off"})
    text = "kubectl patch configmap policy-config -n production --patch '...'"
    obs = observe(text, 0, call("kubectl", *PATCH, '{"data":{"enforcement_mode":"off"}}',
                                verdict="refused",
                                detail="policy-config refused: enforcement_mode='off'"))
    j = judge.judge(obs, ctx(cluster))
    assert j.outcome is CommandOutcome.FAILED
    assert "the fabric refuses this policy-config: enforcement_mode='off'" in j.reason
    assert "sidecar-watcher: policy-config refused" in j.reason


def test_a_watcher_refusal_seen_in_its_log_fails_the_patch(cluster: FakeCluster) -> None:
    cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "monitor"})
    obs = observe("kubectl patch configmap policy-config -n production --patch '...'", 0,
                  call("kubectl", *PATCH, '{"data":{"enforcement_mode":"monitor"}}',
                       verdict="refused", detail="watcher kept another mode (a: enforce)"))
    j = judge.judge(obs, ctx(cluster))
    assert j.outcome is CommandOutcome.FAILED and "watcher kept another mode" in j.reason


def test_an_accepted_patch_passes_with_its_checks(cluster: FakeCluster) -> None:
    cluster.patch_configmap("production", "policy-config", {"enforcement_mode": "disabled"})
    obs = observe("kubectl patch configmap policy-config -n production --patch '...'", 0,
                  call("kubectl", *PATCH, '{"data":{"enforcement_mode":"disabled"}}',
                       verdict="accepted", detail="2 watcher pod(s) reloaded"))
    j = judge.judge(obs, ctx(cluster))
    assert j.outcome is CommandOutcome.OK
    assert [c.ok for c in j.checks] == [True, True]
    assert "2 watcher pod(s) reloaded" in j.checks[1].observed


def test_a_scale_must_reach_its_ready_count(cluster: FakeCluster) -> None:
    text = "kubectl scale deployment sidecar-watcher -n production --replicas=0"
    scale = call("kubectl", "scale", "deployment", "sidecar-watcher", "-n", "production",
                 "--replicas=0")
    j = judge.judge(observe(text, 0, scale), ctx(cluster))  # the fake still runs 2
    assert j.outcome is CommandOutcome.FAILED and "desired 2, ready 2" in j.reason
    cluster.scale_deployment("production", "sidecar-watcher", 0)
    assert judge.judge(observe(text, 0, scale), ctx(cluster)).outcome is CommandOutcome.OK


def test_a_change_whose_condition_did_not_hold_changed_nothing(cluster: FakeCluster) -> None:
    text = 'if [ "$SEVERITY" = "SEV-2" ]; then\n  kubectl scale deployment x --replicas=3\nfi'
    j = judge.judge(observe(text, 0), ctx(cluster))
    assert j.outcome is CommandOutcome.OK and "condition did not hold" in j.reason


@pytest.mark.parametrize("http, outcome", [(200, CommandOutcome.OK), (404, CommandOutcome.FAILED),
                                           (None, CommandOutcome.FAILED)])
def test_a_notification_counts_when_the_sink_accepted_it(cluster: FakeCluster, http: int | None,
                                                         outcome: CommandOutcome) -> None:
    obs = observe("curl -X POST $SLACK_WEBHOOK -d '{}'", 0,
                  call("curl", "-X", "POST", "$SLACK_WEBHOOK", "-d", "{}", http=http))
    assert judge.judge(obs, ctx(cluster)).outcome is outcome


def test_a_remote_host_is_not_executable_and_a_split_body_is_a_failure(cluster: FakeCluster) -> None:
    remote = observe("curl -X POST https://hooks.slack.com/x -d '{}'", 7,
                     call("curl", "https://hooks.slack.com/x", rc=7, refused=True,
                          note="hooks.slack.com is not 127.0.0.1"))
    j = judge.judge(remote, ctx(cluster))
    assert j.outcome is CommandOutcome.NOT_EXECUTABLE and "hooks.slack.com" in j.reason
    split = observe("curl -X POST $W -d '...'", 3,
                    call("curl", 'days)"}', rc=3, malformed=True, note="'days)\"}' is not a URL"))
    assert judge.judge(split, ctx(cluster)).outcome is CommandOutcome.FAILED


def test_a_command_that_hangs_fails_but_a_stream_stopped_on_purpose_passes(
        cluster: FakeCluster) -> None:
    hung = observe("sleep 1000", None, timed_out=True)
    assert judge.judge(hung, ctx(cluster)).outcome is CommandOutcome.FAILED
    stream = observe("kubectl logs -l app=x -f | grep POLICY_VIOLATION", 1,
                     call("kubectl", "logs", "-l", "app=x", "-f", note="bounded"))
    assert judge.judge(stream, ctx(cluster)).outcome is CommandOutcome.OK


def test_documentation_must_write_something(cluster: FakeCluster) -> None:
    text = "cat > report.md << EOF\nEOF"
    empty = judge.judge(observe(text, 0, written=(("report.md", 0),)), ctx(cluster))
    assert empty.outcome is CommandOutcome.FAILED and "empty file: report.md" in empty.reason
    full = judge.judge(observe(text, 0, written=(("report.md", 120),)), ctx(cluster))
    assert full.outcome is CommandOutcome.OK and "report.md (120 bytes)" in full.reason


def test_a_failing_check_names_pfctls_own_message(cluster: FakeCluster) -> None:
    obs = observe("./pfctl validate --dfa artifact/dfa.json", 2,
                  call("pfctl", "validate", "--dfa", "artifact/dfa.json", rc=2,
                       stderr="pfctl: error: artifact/dfa.json: sha256 mismatch"))
    j = judge.judge(obs, ctx(cluster))
    assert j.outcome is CommandOutcome.FAILED
    assert j.reason == "pfctl validate failed: pfctl: error: artifact/dfa.json: sha256 mismatch"


@pytest.mark.parametrize("argv, kind, name, data", [
    (("patch", "cm/policy-config", "-n", "p", "-p", '{"data":{"a":"1"}}'),
     verify.ChangeKind.CONFIGMAP_PATCH, "policy-config", {"a": "1"}),
    (("patch", "configmap", "x", "--patch={\"data\":{\"b\":true}}"),
     verify.ChangeKind.CONFIGMAP_PATCH, "x", {"b": "true"}),
    (("patch", "configmap", "x", "--type", "json", "-p",
      '[{"op":"replace","path":"/data/mode","value":"enforce"}]'),
     verify.ChangeKind.CONFIGMAP_PATCH, "x", {"mode": "enforce"}),
    (("scale", "deploy/w", "--replicas", "3"), verify.ChangeKind.SCALE, "w", {}),
    (("rollout", "restart", "deployment/w"), verify.ChangeKind.ROLLOUT_RESTART, "w", {}),
])
def test_kubectl_change_calls_are_read_in_all_their_spellings(
        argv: tuple[str, ...], kind: verify.ChangeKind, name: str, data: dict[str, str]) -> None:
    change = verify.parse(call("kubectl", *argv), "production")
    assert change is not None
    assert (change.kind, change.name, change.data) == (kind, name, data)
