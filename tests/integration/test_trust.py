"""Verdicts a team can trust, on the kwok drill cluster (issues 17, 18, 11 hole 4).

- Two drills started at the same instant on a cluster with no fabric yet: both
  bring-ups deploy, under the Lease; one drill runs and passes, the other is
  refused (exit 3) naming it.
- While a drill holds the Lease, in the middle of its mitigation, a second
  invocation of each entry point (``drill run`` and so the schedule,
  ``runbook check``, ``fault inject``, ``fabric deploy``, the Gherkin features)
  is refused, names the holder, and changes no object in the namespace; the
  first drill then passes.
- Nothing left behind: ``runbook check`` and faults injected and rolled back leave
  the environment as they found it (objects by content, pods, live alert rules,
  processes: :mod:`world_support`), and the weekly suite then passes 5/5.
- A team's own fabric (another image tag, an extra label, ``log_level: DEBUG``)
  drilled with ``--provider existing``: nothing deployed over it, the drill
  passes, pod templates and ``policy-config`` exactly as the team set them. The
  same fabric missing a metric the rules need: ``fabric check`` names it, the
  drills needing it are refused in preflight (exit 3), nothing injected.
- ``pfctl test`` reaches the watcher through a port-forward when nothing else
  is configured.

Everything runs as a user would run it: the ``pfdrill``/``pfctl`` entry points
as subprocesses, against the session's kwok cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import world_support
import yaml

from pfdrill.cluster import lease
from pfdrill.detect import pipeline
from pfdrill.fabric import deploy
from pfdrill.settings.config import load_config

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NS = "production"
RUNBOOK = REPO / "runbooks" / "policy-enforcement-incident-response.md"
WEEKLY = REPO / "drills" / "weekly.yaml"
HOLD_S = 170  # one hold command's longest wait (runbook commands time out after 180 s)
HOLDS = 6  # hold commands in a row: the drill waits up to HOLDS * HOLD_S for the release file


@pytest.fixture(scope="module")
def stack(drill_cluster: Any) -> Iterator[Any]:
    """The session cluster with the observability stack, no fabric yet; torn down after."""
    # The cluster's own state dir: `pfdrill ... --name <cluster>` finds the cluster there.
    env = {**drill_cluster.env, "PFDRILL_STATE_DIR": str(drill_cluster.stack.paths.state),
           "PATH": f"{BIN}{os.pathsep}{drill_cluster.env.get('PATH', '')}"}
    pipeline.up(drill_cluster.name, "drill", targets_file=drill_cluster.runtime_dir / "targets.json")
    try:
        yield drill_cluster, env
    finally:
        deploy.undeploy(drill_cluster.client, config=load_config())
        pipeline.down(drill_cluster.name)


def pfdrill(env: dict[str, str], *args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "pfdrill"), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=REPO)


def versions(cluster: Any) -> dict[str, str]:
    """resourceVersion of every object a run could change in the namespace."""
    out = {}
    for kind in ("configmaps", "secrets", "deployments", "services", "leases"):
        got = subprocess.run([str(cluster.kubectl), "get", kind, "-n", NS, "-o", "json"],
                             env=cluster.env, capture_output=True, text=True, timeout=60,
                             check=True)
        for item in json.loads(got.stdout)["items"]:
            out[f"{kind}/{item['metadata']['name']}"] = item["metadata"]["resourceVersion"]
    return out


def _suite(tmp: Path, only: str, runbook: Path, **sla: float) -> Path:
    """The weekly suite's ``only`` drill, with its runbook and budgets replaced."""
    doc = yaml.safe_load(WEEKLY.read_text())
    doc["defaults"]["runbook"] = str(runbook)
    doc["drills"] = [d for d in doc["drills"] if d["name"] == only]
    if sla:
        doc["drills"][0]["sla"] = {**doc["drills"][0].get("sla", {}), **sla}
    path = tmp / "suite.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _held_runbook(tmp: Path, release: Path) -> Path:
    """The runbook plus a section that waits until ``release`` exists: the drill stays
    mid-mitigation (enforcement disabled, watchers scaled away) until the test says."""
    wait = f"for i in $(seq {HOLD_S}); do [ -e {release} ] && break; sleep 1; done"
    text = RUNBOOK.read_text() + (
        "\n\n## Drill Hold\n\n### 1. Hold\n\n```bash\n" + "\n".join([wait] * HOLDS)
        + "\n```\n")
    path = tmp / "runbook.md"
    path.write_text(text)
    return path


def test_two_drills_started_at_the_same_instant_one_runs_and_the_other_is_refused(
        stack: Any, tmp_path: Path) -> None:
    """Issue 11: on a cluster with no fabric yet, both bring-ups find nothing to verify and
    both deploy; the applies and the drill are exclusive under the Lease, so exactly one
    drill runs and passes, and the other exits 3 naming it."""
    cluster, env = stack
    if deploy.present(cluster.client, NS):  # an earlier module's fabric: start without one
        deploy.undeploy(cluster.client, config=load_config())  # returns once the namespace is gone
    assert not deploy.present(cluster.client, NS)
    suite = _suite(tmp_path, "enforcement-disabled-drift", RUNBOOK)
    go = tmp_path / "go"
    # both processes wait for one file, so their bring-ups start within milliseconds
    starter = (f"import os, sys, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
               f"os.execv({str(BIN / 'pfdrill')!r}, sys.argv[1:])")
    runs = [subprocess.Popen([sys.executable, "-c", starter, "pfdrill", "drill", "run", str(suite),
                              "--name", cluster.name, "--reports", str(tmp_path / f"r{i}")],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             cwd=REPO) for i in (0, 1)]
    time.sleep(1.0)
    go.touch()
    outs = [r.communicate(timeout=1200)[0] for r in runs]
    codes = [r.returncode for r in runs]
    assert sorted(codes) == [0, 3], "\n---\n".join(o[-3000:] for o in outs)
    winner, loser = (0, 1) if codes[0] == 0 else (1, 0)
    assert f"/{runs[winner].pid}/" in outs[loser], outs[loser][-2000:]  # names the winner
    assert "PASSED" in outs[winner], outs[winner][-3000:]
    assert cluster.client.lease_holder(NS, lease.LEASE_NAME) is None
    assert cluster.client.get_configmap(NS, "policy-config")["enforcement_mode"] == "enforce"


def test_second_invocations_during_a_drill_change_nothing_and_name_the_holder(
        stack: Any, tmp_path: Path) -> None:
    cluster, env = stack
    release = tmp_path / "release"
    suite = _suite(tmp_path, "adapter-fail-open", _held_runbook(tmp_path, release),
                   respond=HOLDS * HOLD_S + 240, resolve=HOLDS * HOLD_S + 600)
    doc = yaml.safe_load(suite.read_text())
    doc["drills"][0]["runbook"] = {**doc["drills"][0]["runbook"], "respond": [
        *doc["drills"][0]["runbook"]["respond"], "Drill Hold / Hold"]}
    suite.write_text(yaml.safe_dump(doc, sort_keys=False))
    first = subprocess.Popen([str(BIN / "pfdrill"), "drill", "run", str(suite), "--name",
                              cluster.name, "--reports", str(tmp_path / "reports")],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, cwd=REPO)
    try:
        def mid_mitigation() -> str | None:
            holder = cluster.client.lease_holder(NS, lease.LEASE_NAME)
            try:
                mode = cluster.client.get_configmap(NS, "policy-config")["enforcement_mode"]
                watchers = cluster.client.list_pods(NS, "app=sidecar-watcher")
            except Exception:
                return None
            return holder if holder and mode == "disabled" and not watchers else None

        deadline = time.monotonic() + 600
        holder = None
        while holder is None and time.monotonic() < deadline and first.poll() is None:
            holder = mid_mitigation()
            time.sleep(1)
        if holder is None:
            first.kill()
            out, _ = first.communicate()
            raise AssertionError(f"the drill never reached its mitigation: {out[-4000:]}")
        before = versions(cluster)
        kube = ["--kubeconfig", str(cluster.kubeconfig), "--context", cluster.context]
        seconds = {
            "drill run": pfdrill(env, "drill", "run", str(WEEKLY), "--only",
                                 "adapter-fail-open", "--name", cluster.name, "--reports",
                                 str(tmp_path / "second")),
            "runbook check": pfdrill(env, "runbook", "check", str(RUNBOOK), *kube,
                                     "--section", "Immediate Mitigation"),
            "fault inject": pfdrill(env, "fault", "inject", "enforcement_disabled", *kube),
            "fabric deploy": pfdrill(env, "fabric", "deploy", *kube),
        }
        for what, done in seconds.items():
            assert done.returncode == 3, f"{what}: {done.returncode} {done.stdout}{done.stderr}"
            assert holder in done.stderr, f"{what}: {done.stderr}"
        features = subprocess.run(
            [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "features/",
             "--pfdrill-cluster", cluster.name, "--pfdrill-keep-cluster", "-x"],
            env=env, capture_output=True, text=True, timeout=900, check=False, cwd=REPO)
        assert features.returncode != 0 and holder in features.stdout, features.stdout[-3000:]
        assert versions(cluster) == before
        assert first.poll() is None and cluster.client.lease_holder(NS, lease.LEASE_NAME) == \
            holder, "the hold ended before every check ran"
        release.touch()
        out, _ = first.communicate(timeout=1800)
    finally:
        release.touch()  # a failed check must not leave the drill holding on
        if first.poll() is None:
            try:
                first.communicate(timeout=1800)
            except subprocess.TimeoutExpired:
                first.kill()
                first.communicate()
    assert first.returncode == 0, out[-4000:]
    assert cluster.client.lease_holder(NS, lease.LEASE_NAME) is None


# Each injected and rolled back on its own: between them they touch a Secret (the trust
# bundle), both Deployments' replicas (so their pods) and ConfigMaps.
ROLLED_BACK = (("certificate_corruption",), ("adapter_failure", "-p", "failure_mode=fail_open"),
               ("dfa_tampering",), ("sidecar_pod_loss",))


def test_nothing_is_left_behind_by_runbook_check_or_fault_injections_and_the_suite_then_passes(
        stack: Any, tmp_path: Path) -> None:
    """Issue 11, "Nothing left behind" (the gate's share is in test_gate): after
    ``runbook check`` and after each fault injected and rolled back, every object of the
    namespace (by content), the pods, the live alert rules, the observability processes
    and the processes runs start are as they were; the weekly suite then passes 5/5
    (without the runbook's monitoring rules already there) and leaves them so too."""
    cluster, env = stack
    if not deploy.present(cluster.client, NS):  # run alone; in the module a drill brought it up
        first = pfdrill(env, "fabric", "deploy", "--name", cluster.name)
        assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    before = world_support.world(cluster)
    assert before["rules"] and before["left running"] == [], before
    check = pfdrill(env, "runbook", "check", str(RUNBOOK), "--kubeconfig", str(cluster.kubeconfig),
                    "--context", cluster.context, "--cluster", cluster.name, "--severity", "SEV-1")
    assert "restored" in check.stderr, check.stderr[-3000:]
    world_support.assert_as_before(cluster, before, "runbook check")
    for fault in ROLLED_BACK:
        done = pfdrill(env, "fault", "inject", *fault, "--name", cluster.name, timeout=300)
        assert done.returncode == 0, f"{fault}: {done.stdout}{done.stderr[-2000:]}"
        assert world_support.differences(before, world_support.world(cluster)), \
            f"{fault} changed nothing: the comparison would not see it"
        done = pfdrill(env, "fault", "rollback", fault[0], "--name", cluster.name, timeout=300)
        assert done.returncode == 0, f"{fault}: {done.stdout}{done.stderr[-2000:]}"
        world_support.assert_as_before(cluster, before, f"fault inject + rollback {' '.join(fault)}")
    suite = pfdrill(env, "drill", "run", str(WEEKLY), "--name", cluster.name,
                    "--reports", str(tmp_path / "weekly"), timeout=2400)
    assert suite.returncode == 0, suite.stdout[-6000:] + suite.stderr[-3000:]
    assert "5/5 passed" in suite.stdout, suite.stdout[-3000:]
    assert "Monitoring and alerting updated" not in suite.stdout
    world_support.assert_as_before(cluster, before, "the weekly suite")


# --- a team's own fabric, drilled with --provider existing -------------------------------------

def _team_manifests(tmp: Path, *watcher_args: str) -> Path:
    """deploy/fabric as a team might run it: their image tag, an extra label, DEBUG logs
    (the base edited; the kwok overlay over it, as the cluster runs pods)."""
    overlay = deploy.manifests.default_dir()
    shipped = overlay.parents[1]  # deploy/: the base, components and overlays
    tree = tmp / "team-deploy"
    shutil.copytree(shipped, tree, symlinks=False,
                    ignore=shutil.ignore_patterns("screenshots", "python"))
    out = tree / "fabric"
    for name in ("sidecar-watcher.yaml", "policy-adapter.yaml"):
        path = out / name
        docs = list(yaml.safe_load_all(path.read_text()))
        for d in docs:
            if d.get("kind") != "Deployment":
                continue
            d["metadata"]["labels"]["team.example.com/owner"] = "payments"
            d["spec"]["template"]["metadata"]["labels"]["team.example.com/owner"] = "payments"
            for c in d["spec"]["template"]["spec"]["containers"]:
                c["image"] = "registry.example.com/payments/fabric:2.7.1"
                if name == "sidecar-watcher.yaml":
                    c["args"] = [*c["args"], *watcher_args]
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    cfg = out / "policy-config.yaml"
    doc = yaml.safe_load(cfg.read_text())
    doc["data"]["log_level"] = "DEBUG"
    cfg.write_text(yaml.safe_dump(doc, sort_keys=False))
    return tree / overlay.relative_to(shipped)


def _team(stack: Any, tmp: Path, *watcher_args: str) -> tuple[Path, dict[str, Any]]:
    """The team's fabric applied over whatever runs (as their own CD would roll it out);
    a pfdrill config that allows the context."""
    cluster, _ = stack
    deploy.deploy(cluster.client, config=load_config(), manifest_dir=_team_manifests(
        tmp, *watcher_args), timeout_s=600)
    config = tmp / "pfdrill.yaml"
    config.write_text(yaml.safe_dump({"allowed_contexts": [cluster.context],
                                      "namespace": NS}))
    return config, _team_state(cluster)


def _team_state(cluster: Any) -> dict[str, Any]:
    deps = {n: cluster.client.get_object("apps/v1", "Deployment", NS, n) for n in deploy.WORKLOADS}
    return {"templates": {n: d["spec"]["template"] for n, d in deps.items() if d},
            "policy-config": cluster.client.get_configmap(NS, "policy-config")}


def test_a_teams_fabric_is_drilled_not_replaced(stack: Any, tmp_path: Path) -> None:
    cluster, env = stack
    config, before = _team(stack, tmp_path)
    assert before["policy-config"]["log_level"] == "DEBUG"
    done = pfdrill(env, "drill", "run", str(WEEKLY), "--only", "adapter-fail-open",
                   "--provider", "existing", "--kubeconfig", str(cluster.kubeconfig),
                   "--context", cluster.context, "--config", str(config),
                   "--name", cluster.name, "--reports", str(tmp_path / "reports"))
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    assert "[fabric] deployed" not in done.stderr
    assert "fabric (not deployed by pfdrill) running in production, verified only" in done.stderr
    assert _team_state(cluster) == before


def test_a_missing_metric_is_named_and_its_drills_refused_before_any_change(
        stack: Any, tmp_path: Path) -> None:
    cluster, env = stack
    config, before = _team(stack, tmp_path, "--without-metric", "permit_rejects_total")
    kube = ["--kubeconfig", str(cluster.kubeconfig), "--context", cluster.context,
            "--config", str(config)]
    check = pfdrill(env, "fabric", "check", *kube)
    assert check.returncode == 1, check.stdout + check.stderr
    line = next(x for x in check.stdout.splitlines() if x.startswith("metric") and
                "permit_rejects_total" in x)
    assert "missing" in line and "high-reject-rate" in line and "adapter-fail-open" not in line
    rv = versions(cluster)
    done = pfdrill(env, "drill", "run", str(WEEKLY), "--only", "high-reject-rate",
                   "--provider", "existing", *kube, "--name", cluster.name,
                   "--reports", str(tmp_path / "reports"))
    assert done.returncode == 3, done.stdout + done.stderr[-3000:]
    assert "permit_rejects_total" in done.stderr
    assert versions(cluster) == rv  # refused in preflight: nothing injected, no lease taken
    assert _team_state(cluster) == before


def test_pfctl_reaches_the_watcher_by_port_forward(stack: Any, tmp_path: Path) -> None:
    cluster, env = stack
    if cluster.client.get_object("apps/v1", "Deployment", NS, "sidecar-watcher") is None:
        deploy.deploy(cluster.client, config=load_config(), timeout_s=300)
    state = Path(env["PFDRILL_STATE_DIR"])  # the cluster's CA signs pfctl's canary requests
    pfctl = tmp_path / "pfctl.yaml"
    pfctl.write_text(yaml.safe_dump({"environments": {"production": {
        "kubeconfig": str(cluster.kubeconfig), "context": cluster.context,
        "namespace": NS, "kubectl": str(cluster.kubectl)}}}))
    done = subprocess.run([str(BIN / "pfctl"), "test", "--env", "production", "--suite",
                           "incident-recovery"], env={**env, "PFCTL_CONFIG": str(pfctl),
                                                      "PFDRILL_STATE_DIR": str(state)},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    forwards = subprocess.run(["pgrep", "-f", f"port-forward.*{cluster.context}"],
                              capture_output=True, text=True, check=False)
    assert forwards.stdout.strip() == ""  # the forward went with pfctl
