"""The notification sink as a detached process: the runbook's own curl commands, a SIGKILL, a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from pfdrill.cli import main
from pfdrill.detect import pipeline
from pfdrill.model.detection import Channel
from pfdrill.model.signals import Baseline
from pfdrill.proc import daemon, ports
from pfdrill.sink import journal, service
from pfdrill.sink.client import SinkClient
from pfdrill.sink.server import SinkFiles

pytestmark = pytest.mark.servers

# Verbatim from the runbook (sections "Incident Declaration", "Immediate Mitigation",
# "Stakeholder Updates", "Team Communication"): mojibake, unexpanded $(date ...), not all JSON.
RUNBOOK_CURLS = r"""
curl -sf -X POST $SLACK_WEBHOOK \
  -H 'Content-type: application/json' \
  -d '{"text":"ğŸš¨ SEV-1 Policy Enforcement Incident Declared"}'
curl -sf -X POST $SECURITY_WEBHOOK -d '{"text":"ğŸš¨ Policy enforcement disabled due to SEV-1 incident"}'
curl -sf -X POST $STAKEHOLDER_WEBHOOK \
  -d '{"text":"Policy Enforcement Incident Resolved\n\nStatus: Normal operations resumed\nNext: Post-mortem scheduled for $(date -d '+2 days')"}'
curl -sf -X POST $TEAM_WEBHOOK \
  -d '{"text":"ğŸ“‹ Incident $INCIDENT_ID Update\n\n- Status: Resolved\n- Post-mortem: $(date -d '+2 days')\n- Next steps: Process improvements and monitoring updates"}'
"""


def _env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    for ch in Channel:
        if ch.env_var:
            env[ch.env_var] = f"{url}/{ch.value}"
    return env


def test_runbook_notifications_survive_a_sigkill(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "sink"
    first = pipeline.start_sink(directory)
    assert pipeline.start_sink(directory) == first  # idempotent
    before = time.time()
    done = subprocess.run(["bash", "-c", RUNBOOK_CURLS], env=_env(first.url), capture_output=True,
                          text=True, timeout=30)
    # The runbook's last two curls exit 3: the single quotes around '+2 days' split the
    # argument and curl takes "days)..." for a second, malformed URL. The POST itself goes out.
    assert done.returncode == 3, done.stderr
    records = journal.read(SinkFiles(directory).journal)
    assert [r.channel for r in records] == [Channel.SLACK, Channel.SECURITY, Channel.STAKEHOLDER,
                                            Channel.TEAM]
    assert all(before <= r.received_at <= time.time() for r in records)
    assert records[0].json == {"text": "ğŸš¨ SEV-1 Policy Enforcement Incident Declared"}
    assert records[0].content_type == "application/json"
    assert records[2].body.endswith("$(date -d +2")  # cut where the quoting breaks
    assert records[2].json is None and records[2].json_error
    assert "$INCIDENT_ID" in records[3].body and records[3].json is None

    SinkClient(first.url).publish_baseline(Baseline(latency_mean_seconds=0.004, reject_rate=1.5))
    os.kill(first.pid, signal.SIGKILL)  # a crash: no shutdown, no flush beyond what was fsync'd
    deadline = time.monotonic() + 10
    while daemon.Daemon("sink", directory).pid() is not None:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    second = pipeline.start_sink(directory)
    assert second.pid != first.pid
    client = SinkClient(second.url)
    assert client.records() == records
    assert client.baselines() == {"latency_mean_seconds": 0.004, "reject_rate": 1.5}
    metrics = httpx.get(f"{second.url}/metrics", timeout=5).text
    assert 'pfdrill_baseline{signal="reject_rate"} 1.5' in metrics
    seq = client.notify("/slack", b"after the restart", "text/plain")
    assert seq == 5
    unknown = httpx.post(f"{second.url}/pagerduty", content=b"{}", timeout=5)
    assert unknown.status_code == 404 and unknown.json()["seq"] == 6

    assert main(["sink", "show", "--dir", str(directory), "--channel", "slack"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "/slack" in lines[0] and "after the restart" in lines[1]
    assert main(["sink", "show", "--dir", str(directory), "--json", "--since", "1h"]) == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["seq"] for r in shown] == [1, 2, 3, 4, 5, 6]
    assert shown[3]["json"] is None and shown[3]["json_error"]
    assert main(["sink", "env", "--dir", str(directory)]) == 0
    assert f"export SLACK_WEBHOOK={second.url}/slack" in capsys.readouterr().out

    port = int(second.url.rsplit(":", 1)[1])
    assert pipeline.stop_sink(directory)
    assert not ports.port_open("127.0.0.1", port)
    assert service.read_endpoint(directory) is None
    assert not pipeline.stop_sink(directory)


def test_bad_baselines_are_refused_over_http(tmp_path: Path) -> None:
    ep = pipeline.start_sink(tmp_path / "sink")
    try:
        bad = httpx.put(f"{ep.url}/baselines", json={"latency": 1}, timeout=5)
        assert bad.status_code == 400 and "unknown baseline signal 'latency'" in bad.json()["error"]
        assert httpx.put(f"{ep.url}/baselines", content=b"[1]", timeout=5).status_code == 400
        assert SinkClient(ep.url).baselines() == {}
    finally:
        pipeline.stop_sink(tmp_path / "sink")


def test_show_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sink", "show", "--journal", str(tmp_path / "none.jsonl")]) == 2
    assert "journal file does not exist" in capsys.readouterr().err
    assert main(["sink", "show", "--dir", str(tmp_path), "--channel", "pager"]) == 2
    assert "unknown channel 'pager'" in capsys.readouterr().err
    assert main(["sink", "show", "--dir", str(tmp_path), "--since", "last tuesday"]) == 2
    assert "--since 'last tuesday'" in capsys.readouterr().err
