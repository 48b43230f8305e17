"""A Job's pod on the process runtime: its ServiceAccount projected like a kubelet's, its
history volume outliving it, and its exit reported as the pod's phase."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from pfdrill.cluster.fake import FakeCluster
from pfdrill.runtime import serviceaccount
from pfdrill.runtime.pod import PodRunner

CA = "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n"
SCRIPT = """
import os, pathlib, sys
sa = pathlib.Path(os.environ["PFDRILL_SERVICEACCOUNT_DIR"])
std = pathlib.Path(sys.argv[1])
out = pathlib.Path(os.environ["HISTORY"]) / "seen.txt"
out.write_text("|".join([(sa / "token").read_text(), (std / "namespace").read_text(),
                         (std / "ca.crt").read_text().splitlines()[1],
                         os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]]))
sys.exit(int(sys.argv[2]))
"""


def _pod(exit_code: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "pfdrill-weekly-x1", "namespace": "production", "uid": "u-123456789",
                     "annotations": {"pfdrill.dev/runtime": "process"}},
        "spec": {"serviceAccountName": "pfdrill-drills", "restartPolicy": "Never",
                 "containers": [{"name": "pfdrill", "command": [sys.executable, "-c", SCRIPT],
                                 "args": [serviceaccount.MOUNT_PATH, str(exit_code)],
                                 "env": [{"name": "HISTORY", "value": "/var/lib/pfdrill"}],
                                 "volumeMounts": [{"name": "state",
                                                   "mountPath": "/var/lib/pfdrill"}]}],
                 "volumes": [{"name": "state",
                              "persistentVolumeClaim": {"claimName": "pfdrill-history"}}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "pfdrill",
                                                              "restartCount": 0}]},
    }


def _cluster(host_dir: Path, pod: dict[str, Any]) -> FakeCluster:
    c = FakeCluster("kwok-test")
    c.add_namespace("production")
    c.add_configmap("production", serviceaccount.ROOT_CA_CONFIGMAP, {"ca.crt": CA})
    c.apply([pod,
             {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
              "metadata": {"name": "pfdrill-history", "namespace": "production"},
              "spec": {"volumeName": "history-pv"}},
             {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "history-pv"},
              "spec": {"hostPath": {"path": str(host_dir)}}}])
    return c


def _run(tmp_path: Path, exit_code: int) -> tuple[FakeCluster, PodRunner, Path]:
    host = tmp_path / "node" / "history"
    pod = _pod(exit_code)
    cluster = _cluster(host, pod)
    runner = PodRunner(pod, tmp_path / "rt", cluster, Path(sys.executable).parent, {},
                       api_server="https://127.0.0.1:6443")
    configmaps = {o["metadata"]["name"]: o["data"]
                  for o in cluster.list_objects("v1", "ConfigMap", "production")}
    runner.start(configmaps, {}, {})
    deadline = time.monotonic() + 20
    while runner.exit_codes() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    runner.report_status()
    return cluster, runner, host


def test_a_job_pod_sees_its_serviceaccount_and_succeeds(tmp_path: Path) -> None:
    cluster, runner, host = _run(tmp_path, 0)
    assert runner.exit_codes() == {"pfdrill": 0}, runner.problems
    token, namespace, ca, api_host, api_port = (host / "seen.txt").read_text().split("|")
    # a TokenRequest for the pod's ServiceAccount, bound to this pod
    assert token == "fake-token-1:production:pfdrill-drills:pfdrill-weekly-x1"
    assert ("request_token", ("production", "pfdrill-drills", 3607,
                              ("pfdrill-weekly-x1", "u-123456789"))) in cluster.calls
    assert (namespace, ca, api_host, api_port) == ("production", "fake", "127.0.0.1", "6443")
    assert oct(os.stat(runner.dir / "serviceaccount" / "token").st_mode & 0o777) == "0o600"
    status = cluster.get_object("v1", "Pod", "production", "pfdrill-weekly-x1")["status"]
    assert status["phase"] == "Succeeded"
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    runner.stop()
    runner.remove_files()
    assert not runner.dir.exists() and (host / "seen.txt").is_file()  # the volume outlives it


def test_a_failing_job_pod_is_failed_and_not_restarted(tmp_path: Path) -> None:
    cluster, runner, _ = _run(tmp_path, 3)
    assert runner.exit_codes() == {"pfdrill": 3} and runner.restarts() == {"pfdrill": 0}
    status = cluster.get_object("v1", "Pod", "production", "pfdrill-weekly-x1")["status"]
    assert status["phase"] == "Failed"
    assert status["containerStatuses"][0]["state"]["terminated"]["reason"] == "Error"
    runner.stop()


def test_the_token_is_refreshed_at_eighty_percent_of_its_life(tmp_path: Path) -> None:
    cluster = FakeCluster("kwok-test")
    proj = serviceaccount.TokenProjection(cluster, tmp_path / "sa", _pod(0), "https://h:1")
    cms = {serviceaccount.ROOT_CA_CONFIGMAP: {"ca.crt": CA}}
    assert proj.sync(cms, now=1000.0)
    assert not proj.sync(cms, now=1000.0 + 0.79 * serviceaccount.TOKEN_SECONDS)
    assert proj.sync(cms, now=1000.0 + 0.81 * serviceaccount.TOKEN_SECONDS)
    assert (tmp_path / "sa" / "token").read_text().startswith("fake-token-2:")
    no_mount = _pod(0)
    no_mount["spec"]["automountServiceAccountToken"] = False
    assert not serviceaccount.wanted(no_mount)
