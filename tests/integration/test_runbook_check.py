"""``pfdrill runbook check`` on the kwok drill cluster with the reference fabric and the sink.

Every command of the project's runbook that should run does, its effects are
read back, and a runbook edited to break a step fails naming the section and
the command. The seed runbook runs as it is; its known defects are found.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runbook_support import REPO, RUNBOOK, Drill, drill_environment  # type: ignore[import-not-found]

from pfdrill.model.detection import Channel
from pfdrill.model.evidence import CommandOutcome
from pfdrill.runbook import coverage, runner
from pfdrill.runbook.inputs import DrillVars, Options
from pfdrill.sink.client import SinkClient

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
SEED = Path(__file__).resolve().parents[1] / "unit" / "runbook" / "data" / "seed-runbook.md"
MITIGATION = "Incident Response Actions / Immediate Mitigation"
RECOVERY = "Recovery Procedures / Policy Enforcement Recovery"


@pytest.fixture(scope="module")
def drill(drill_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    yield from drill_environment(drill_cluster, tmp_path_factory.mktemp("runbook-drill"))


@pytest.fixture
def fresh(drill: Drill, monkeypatch: pytest.MonkeyPatch) -> Drill:
    monkeypatch.setenv("PFDRILL_STATE_DIR", str(drill.paths.state))
    drill.reset()
    return drill


def incident() -> str:
    return f"INC-{uuid.uuid4().hex[:6].upper()}"


def check_cli(drill: Drill, runbook: Path, *sections: str, severity: str = "SEV-1",
              tmp: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    out = tmp / "run.json"
    argv = [str(Path(sys.executable).parent / "pfdrill"), "runbook", "check", str(runbook),
            "--kubeconfig", drill.env.kubeconfig, "--context", drill.env.context,
            "--severity", severity, "--sink-url", drill.env.sink_url,
            "--prometheus-url", drill.env.prometheus_url, "--rules-file", drill.env.rules_file,
            "--incident-id", incident(), "-o", str(out)]
    for s in sections:
        argv += ["--section", s]
    env = {**drill.cluster.env, "PFDRILL_STATE_DIR": str(drill.paths.state)}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    return done, json.loads(out.read_text()) if out.exists() else {}


def test_immediate_mitigation_sev1_takes_effect(fresh: Drill) -> None:
    sink = SinkClient(fresh.env.sink_url)
    before = len(sink.records(Channel.SECURITY))
    run = runner.check(RUNBOOK, fresh.env, fresh.cluster.client, fresh.config,
                       DrillVars(severity="SEV-1", incident_id=incident()), [MITIGATION],
                       Options(stream_seconds=2))
    assert run.ok, coverage.table(run)
    assert all(r.outcome is CommandOutcome.OK for r in run.results), coverage.table(run)
    client = fresh.cluster.client
    assert client.get_configmap("production", "policy-config")["enforcement_mode"] == "disabled"
    watcher = client.get_deployment("production", "sidecar-watcher")
    assert (watcher.replicas, watcher.ready) == (0, 0)
    security = sink.records(Channel.SECURITY)[before:]
    assert len(security) == 1 and "Policy enforcement disabled" in security[0].body
    sev1 = next(r for r in run.results if r.command.text.startswith('if [ "$SEVERITY" = "SEV-1"'))
    accepted = [c for c in sev1.checks if c.what == "sidecar-watcher accepts it"]
    assert accepted and "watcher pod(s) reloaded policy-config (mode=disabled)" in \
        accepted[0].observed


def break_runbook(tmp: Path, old: str, new: str) -> Path:
    text = RUNBOOK.read_text(encoding="utf-8")
    assert old in text
    edited = tmp / "broken.md"
    edited.write_text(text.replace(old, new, 1), encoding="utf-8")
    return edited


def test_a_wrong_configmap_name_fails_naming_section_and_command(fresh: Drill, tmp_path: Path) -> None:
    broken = break_runbook(
        tmp_path, "kubectl patch configmap policy-config -n production --patch "
                  "'{\"data\":{\"enforcement_mode\":\"disabled\"}}'",
        "kubectl patch configmap policy-cnofig -n production --patch "
        "'{\"data\":{\"enforcement_mode\":\"disabled\"}}'")
    done, _ = check_cli(fresh, broken, MITIGATION, tmp=tmp_path)
    assert done.returncode == 1, done.stderr
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("FAILED:"))
    assert line.startswith(f"FAILED: {MITIGATION}: line ")
    assert 'if [ "$SEVERITY" = "SEV-1" ]' in line
    assert 'configmaps "policy-cnofig" not found' in line
    assert fresh.cluster.client.get_configmap("production", "policy-config")[
        "enforcement_mode"] == "enforce"


def test_a_block_hidden_in_a_comment_is_listed_and_never_run(fresh: Drill, tmp_path: Path) -> None:
    """Only what renders runs: a comment-hidden block with side effects changes nothing."""
    marker = tmp_path / "hidden-block-ran"
    hidden = (f"<!--\n```bash\ntouch {marker}\n"
              "kubectl scale deployment policy-adapter -n production --replicas=0\n```\n-->\n\n")
    heading = "### 1. Immediate Mitigation\n\n"
    edited = break_runbook(tmp_path, heading, heading + hidden)
    line = edited.read_text(encoding="utf-8").split(hidden)[0].count("\n") + 2  # its ```bash
    adapter = fresh.cluster.client.get_deployment("production", "policy-adapter").replicas
    done, run = check_cli(fresh, edited, MITIGATION, tmp=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not marker.exists()
    assert fresh.cluster.client.get_deployment("production", "policy-adapter").replicas == adapter
    assert not any("policy-adapter" in r["command"]["text"] for r in run["results"])
    assert [(b["line"], b["why"]) for b in run["not_run"]] == [(line, "html-comment")]
    assert "NOT RUN" in done.stdout
    assert f"line {line}: bash block inside an HTML comment — not rendered, not run" in done.stdout


def test_an_invalid_enforcement_mode_is_refused_by_the_fabric(fresh: Drill, tmp_path: Path) -> None:
    broken = break_runbook(tmp_path, '{"data":{"enforcement_mode":"disabled"}}',
                           '{"data":{"enforcement_mode":"off"}}')
    done, _ = check_cli(fresh, broken, MITIGATION, tmp=tmp_path)
    assert done.returncode == 1, done.stderr
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("FAILED:"))
    assert line.startswith(f"FAILED: {MITIGATION}: line ")
    assert "the fabric refuses this policy-config: enforcement_mode='off'" in line
    # ... and the watcher said so itself, before it was scaled away.
    assert "(sidecar-watcher: policy-config refused" in line


def test_a_recovery_that_skips_the_final_enforce_fails(fresh: Drill, tmp_path: Path) -> None:
    broken = break_runbook(
        tmp_path, "# Finally, re-enable enforcement\nkubectl patch configmap policy-config -n "
                  "production --patch '{\"data\":{\"enforcement_mode\":\"enforce\"}}'\n",
        "")
    done, run = check_cli(fresh, broken, MITIGATION, RECOVERY, tmp=tmp_path)
    assert done.returncode == 1, done.stderr
    failed = [ln for ln in done.stderr.splitlines() if ln.startswith("FAILED:")]
    assert len(failed) == 1
    assert failed[0].startswith(f"FAILED: {RECOVERY}: line ")
    assert "expected configmap policy-config enforcement_mode == enforce after line" in failed[0]
    assert "observed enforcement_mode=monitor" in failed[0]
    assert all(r["outcome"] == "ok" for r in run["results"])  # every command itself succeeded


def test_the_whole_runbook_runs_and_recovers(fresh: Drill, tmp_path: Path) -> None:
    done, run = check_cli(fresh, RUNBOOK, tmp=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    outcomes = {r["outcome"] for r in run["results"]}
    assert outcomes == {"ok"}, done.stdout
    assert all(e["ok"] for e in run["expectations"])
    client = fresh.cluster.client
    assert client.get_configmap("production", "policy-config")["enforcement_mode"] == "enforce"
    assert client.get_deployment("production", "sidecar-watcher").ready >= 1


def test_the_seed_runbook_runs_as_it_is_and_its_defects_are_found(fresh: Drill,
                                                                 tmp_path: Path) -> None:
    done, run = check_cli(fresh, SEED, tmp=tmp_path)
    assert done.returncode == 1
    by_line = {r["command"]["line"]: r for r in run["results"]}
    assert len(by_line) == 62
    # The nested single quotes split the JSON body: curl is handed 'days)"}' as a URL.
    for line in (285, 296):
        assert by_line[line]["outcome"] == "failed"
        assert "is not an http(s) URL" in by_line[line]["reason"]
    # Files the responder is expected to write by hand.
    for line in (170, 176, 217, 273, 328):
        assert by_line[line]["outcome"] == "not_executable"
        assert "operator-written file" in by_line[line]["reason"]
    # With SEV-1 the watcher is scaled to 0, so the dump has no pod to exec into.
    assert by_line[151]["outcome"] == "failed"
    # Nothing in the seed commits a change under docs/runbooks/.
    assert by_line[267]["outcome"] == "failed" and "nothing" in by_line[267]["reason"]
    # `pfctl chaos update --scenario "policy_adapter_failure" --frequency "weekly"` edits the
    # sandbox's copy of drills/schedule.yaml; the project's own file is left alone.
    assert by_line[338]["outcome"] == "ok", by_line[338]
    assert "policy_adapter_failure: weekly (adapter-fail-open)" in by_line[338]["stdout"]
    assert "policy_adapter_failure" not in (REPO / "drills" / "schedule.yaml").read_text()
    summary = coverage.summarise(runner_run(run))
    print(f"\nseed runbook: {summary.to_dict()}")


def runner_run(data: dict[str, Any]) -> Any:
    from pfdrill.model.runbook import RunbookRun

    return RunbookRun.from_dict(data)
