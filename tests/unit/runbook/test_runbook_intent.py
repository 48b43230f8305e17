"""What a command is for decides how it is judged."""

from __future__ import annotations

import pytest

from pfdrill.model.runbook import Intent
from pfdrill.runbook import intent


@pytest.mark.parametrize("text, expected", [
    ("kubectl patch configmap policy-config -n production --patch '{}'", Intent.CHANGE),
    ("kubectl scale deployment sidecar-watcher -n production --replicas=0", Intent.CHANGE),
    ("kubectl rollout restart deployment/sidecar-watcher -n production", Intent.CHANGE),
    ("kubectl rollout status deployment/sidecar-watcher -n production", Intent.CHECK),
    ("kubectl get pods -n production", Intent.CHECK),
    ("kubectl get events -n production --sort-by='.lastTimestamp'", Intent.INVESTIGATION),
    ("kubectl logs -n production -l app=x | grep -E '(A|B)'", Intent.INVESTIGATION),
    ("kubectl describe nodes | grep -A 10 'Allocated resources'", Intent.INVESTIGATION),
    ("curl -X POST $SLACK_WEBHOOK -d '{}'", Intent.NOTIFICATION),
    ("curl -s http://127.0.0.1:9090/api/v1/query?query=up", Intent.INVESTIGATION),
    ("cat > report.md << EOF\nx\nEOF", Intent.DOCUMENTATION),
    ("git add docs/runbooks/", Intent.DOCUMENTATION),
    ("git log --oneline --since='2 hours ago'", Intent.INVESTIGATION),
    ("git checkout -b hotfix/x", Intent.SETUP),
    ("./pfctl config update --env production --file f.yaml", Intent.CHANGE),
    ("./pfctl validate --dfa artifact/dfa.json", Intent.CHECK),
    ("./pfctl status --env production", Intent.CHECK),
    ("./pfctl status update --status investigating", Intent.NOTIFICATION),
    ("./pfctl incident create --severity SEV-1 --description d", Intent.DOCUMENTATION),
    ("./pfctl collect --env production --output x.tar.gz", Intent.INVESTIGATION),
    ("sha256sum artifact/dfa.json", Intent.CHECK),
    ("kubectl exec -n production deployment/x -- pkill -USR1 x", Intent.INVESTIGATION),
    ("export TS=$(date +%s)", Intent.SETUP),
    ("if [ \"$SEVERITY\" = \"SEV-1\" ]; then\n  kubectl scale deployment x --replicas=0\n"
     "  curl -X POST $SECURITY_WEBHOOK -d '{}'\nfi", Intent.CHANGE),
])
def test_intent(text: str, expected: Intent) -> None:
    assert intent.classify(text).intent is expected


def test_a_final_grep_is_noticed() -> None:
    assert intent.classify("kubectl logs x | grep ERROR").last_is_grep
    assert not intent.classify("grep ERROR f | wc -l").last_is_grep


@pytest.mark.parametrize("text, streams", [
    ("kubectl logs -n production -l app=x -f | grep POLICY_VIOLATION", True),
    ("kubectl port-forward -n production svc/prometheus 9090:9090", True),
    ("kubectl get pods -w", True),
    ("tail -f /var/log/x", True),
    ("kubectl logs -n production -l app=x --since=1h", False),
    ("kubectl apply -f manifest.yaml", False),
])
def test_commands_that_never_end_on_their_own(text: str, streams: bool) -> None:
    assert intent.streams(text) is streams


def test_pfctl_subcommands() -> None:
    assert intent.pfctl_command(("monitoring", "add-alert", "--rule", "x")) == (
        "monitoring", "add-alert")
    assert intent.pfctl_command(("test", "--suite", "incident-recovery")) == ("test", "")
    assert intent.pfctl_command(("test", "add", "--suite", "s")) == ("test", "add")
