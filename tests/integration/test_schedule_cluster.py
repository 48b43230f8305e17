"""Scheduled drills on the kwok cluster: the rendered RBAC proven with ``kubectl auth can-i``,
and the CronJob's pod running a drill through the process runtime as its ServiceAccount."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from runbook_support import REPO, Drill, drill_environment  # type: ignore[import-not-found]

from pfdrill.fabric.authority import CA_FILE, ca_dir
from pfdrill.model.detection import Channel
from pfdrill.schedule import manifests, rbac, spec
from pfdrill.sink.client import SinkClient

pytestmark = [pytest.mark.cluster, pytest.mark.servers, pytest.mark.slow]
NS = "production"
SA = "pfdrill-drills"
AS = f"--as=system:serviceaccount:{NS}:{SA}"
QUICKEST = "enforcement-disabled-drift"  # the weekly suite's shortest drill (README figures)


def kubectl(drill: Drill, *args: str, check: bool = True,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(drill.cluster.kubectl), *args], env=drill.cluster.env,
                          input=stdin, capture_output=True, text=True, timeout=120, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
    return done


@pytest.fixture(scope="module")
def drill(drill_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    yield from drill_environment(drill_cluster, tmp_path_factory.mktemp("schedule-drill"))


def _can_i(drill: Drill, verb: str, what: str, *extra: str) -> bool:
    done = kubectl(drill, "auth", "can-i", verb, what, AS, *extra, check=False)
    assert done.stdout.strip() in ("yes", "no"), done.stderr
    return done.stdout.strip() == "yes"


def _resource(group: str, resource: str, name: str | None) -> tuple[str, list[str]]:
    base, _, sub = resource.partition("/")
    what = f"{base}.{group}" if group else base
    if name:
        what += f"/{name}"
    return what, [f"--subresource={sub}"] if sub else []


def test_the_committed_manifests_apply_and_grant_exactly_what_drills_use(drill: Drill) -> None:
    kubectl(drill, "apply", "--server-side", "--dry-run=server", "-k",
            str(REPO / "deploy" / "schedule"))
    # Authorization is really on: the admin may, the ServiceAccount may not (yet).
    assert kubectl(drill, "auth", "can-i", "delete", "namespaces").stdout.strip() == "yes"
    kubectl(drill, "apply", "--server-side", "-f", str(REPO / "deploy" / "schedule" /
                                                       "serviceaccount.yaml"))
    assert not _can_i(drill, "get", "configmaps", "-n", NS)
    kubectl(drill, "apply", "--server-side", "-f", str(REPO / "deploy" / "schedule" / "rbac.yaml"))
    # `kubectl top` (metrics.k8s.io) is served by metrics-server: can-i needs its discovery
    kubectl(drill, "wait", "--for=condition=Available", "apiservice/v1beta1.metrics.k8s.io",
            "--timeout=180s")
    allowed = rbac.allowed(NS)
    for verb, resource, group, name in allowed:
        what, extra = _resource(group, resource, name)
        assert _can_i(drill, verb, what, "-n", NS, *extra), f"{verb} {what} {extra} denied"
    denied = [
        ("delete", "namespaces/production"),  # deleting the namespace
        ("get", "secrets", "-n", "kube-system"),  # Secrets outside the namespace
        ("get", "secrets", "-n", "default"),
        ("list", "secrets", "-n", NS),  # ... and any Secret but the fabric's inside it
        ("get", "secrets/pfdrill-summary-webhook", "-n", NS),
        ("create", "clusterrolebindings"),  # cluster-wide writes
        ("patch", "nodes"),
        ("create", "namespaces"),
        ("get", "namespaces/kube-system"),
        ("delete", "deployments.apps", "-n", NS),
        ("get", "configmaps", "-n", "kube-system"),
        ("create", "pods", "-n", NS),
    ]
    for verb, what, *extra in denied:
        assert not _can_i(drill, verb, what, *extra), f"{verb} {what} {extra} allowed"
    print(f"\n[rbac] {len(allowed)} verbs allowed, {len(denied)} unneeded ones denied")


def _project(tmp: Path) -> Path:
    """The repository's schedule, narrowed to the quickest drill (what --only would do)."""
    (tmp / "drills").mkdir()
    shutil.copytree(REPO / "runbooks", tmp / "runbooks")
    shutil.copy2(REPO / "drills" / "weekly.yaml", tmp / "drills" / "weekly.yaml")
    text = (REPO / "drills" / "schedule.yaml").read_text()
    sched = tmp / "drills" / "schedule.yaml"
    sched.write_text(text.replace("drills: all", f"drills: [{QUICKEST}]"))
    return sched


def _wait_job(drill: Drill, name: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = drill.cluster.client.get_object("batch/v1", "Job", NS, name) or {}
        st = job.get("status") or {}
        if st.get("succeeded") or st.get("failed"):
            return job
        time.sleep(2)
    return job


def test_the_cronjobs_pod_runs_a_drill_as_its_serviceaccount(drill: Drill, tmp_path: Path) -> None:
    client = drill.cluster.client
    sched = _project(tmp_path)
    rendered = tmp_path / "deploy"
    manifests.write(manifests.render(spec.load(sched), "drills/schedule.yaml"), rendered)
    history = tmp_path / "node" / "pfdrill-history"
    ca = ca_dir(drill.cluster.context, drill.paths) / CA_FILE
    config = {"allowed_contexts": ["in-cluster"], "namespace": NS,
              "prometheus_url": drill.env.prometheus_url,
              "alertmanager_url": drill.env.alertmanager_url, "sink_url": drill.env.sink_url,
              # the rule files this Prometheus loads (pfctl monitoring update edits them)
              "rules_dir": str(Path(drill.env.rules_file).parent)}
    site = [  # what a team creates beside the rendered files: its URLs, secrets and storage
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pfdrill-config",
                                                                "namespace": NS},
         "data": {"config.yaml": yaml.safe_dump(config)}},
        {"apiVersion": "v1", "kind": "Secret",
         "metadata": {"name": "pfdrill-summary-webhook", "namespace": NS},
         "stringData": {"url": f"{drill.env.sink_url}/team"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pfdrill-canary-ca",
                                                             "namespace": NS},
         "stringData": {CA_FILE: ca.read_text()}},
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pfdrill-history-pv"},
         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                  "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": str(history)},
                  "claimRef": {"namespace": NS, "name": "pfdrill-history"}}},
    ]
    _forget_history(drill)
    kubectl(drill, "apply", "-f", "-", stdin="---\n".join(yaml.safe_dump(o) for o in site))
    kubectl(drill, "apply", "--server-side", "--force-conflicts", "-k", str(rendered))
    sink = SinkClient(drill.env.sink_url)
    before = len(sink.records(Channel.TEAM))
    job = "pfdrill-weekly-now"
    kubectl(drill, "delete", "job", job, "-n", NS, "--ignore-not-found", "--wait=true")
    started = time.monotonic()
    kubectl(drill, "create", "job", "--from=cronjob/pfdrill-weekly", job, "-n", NS)
    try:
        done = _wait_job(drill, job, 900)
        took = time.monotonic() - started
        pods = client.list_pods(NS, f"job-name={job}")
        logs = kubectl(drill, "logs", "-n", NS, f"job/{job}", "--tail=-1", check=False).stdout
        assert (done.get("status") or {}).get("succeeded") == 1, \
            f"job did not succeed: {json.dumps(done.get('status'))}\n{logs[-6000:]}"
        print(f"\n[in-cluster] job {job} completed in {took:.0f} s ({len(pods)} pod)")
        assert "[fabric] in-cluster: drilling the fabric in production" in logs
        assert f"{QUICKEST}: PASSED" in logs or "weekly: 1/1 passed" in logs, logs[-4000:]
        # the history on the claim's volume gained the drill's row
        with sqlite3.connect(history / "history.sqlite") as db:
            rows = db.execute("SELECT drill, verdict, provider, context FROM runs").fetchall()
        assert (QUICKEST, "passed", "existing", "in-cluster") in rows
        # the summary reached the sink's team channel, naming the drill
        posted = sink.records(Channel.TEAM)[before:]
        texts = [(p.json or {}).get("text", "") for p in posted]
        summaries = [t for t in texts if t.startswith("# pfdrill weekly")]
        assert len(summaries) == 1 and "# pfdrill weekly: no regressions" in summaries[0]
        assert f"| {QUICKEST} | ✅ passed |" in summaries[0]
        # it used its ServiceAccount's token (a kubeconfig of paths, no admin credentials)
        kc = yaml.safe_load((history / "in-cluster" / "kubeconfig").read_text())
        assert list(kc["users"][0]["user"]) == ["tokenFile"]
    finally:
        kubectl(drill, "delete", "job", job, "-n", NS, "--ignore-not-found", "--wait=true",
                check=False)
        _forget_history(drill)


def _forget_history(drill: Drill) -> None:
    """The claim and its volume point at one test's directory: remove both."""
    kubectl(drill, "delete", "pvc", "pfdrill-history", "-n", NS, "--ignore-not-found",
            "--wait=true", "--timeout=60s", check=False)
    kubectl(drill, "delete", "pv", "pfdrill-history-pv", "--ignore-not-found", "--wait=true",
            "--timeout=60s", check=False)
