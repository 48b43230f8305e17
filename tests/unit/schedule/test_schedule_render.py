"""``pfdrill schedule render``: the CronJob and least-privilege RBAC, and the committed copy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pfdrill.cli import main
from pfdrill.schedule import manifests, rbac, spec

REPO = Path(__file__).resolve().parents[3]


def _objects(out: Path) -> dict[str, dict[str, object]]:
    objs = {}
    for p in sorted(out.glob("*.yaml")):
        for o in yaml.safe_load_all(p.read_text()):
            objs[f"{o['kind']}/{o['metadata'].get('name', '')}" if "metadata" in o else p.name] = o
    return objs


def test_the_committed_manifests_are_what_the_schedule_renders(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    files = manifests.render(spec.load(REPO / "drills" / "schedule.yaml"),
                             source="drills/schedule.yaml")
    stale = manifests.stale(files, REPO / "deploy" / "schedule")
    assert stale == [], (f"deploy/schedule/ is stale ({', '.join(stale)}): run "
                         f"`pfdrill schedule render` and commit the result")


def test_render_writes_the_cronjob_and_its_rbac(schedule_file: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["schedule", "render", "--file", str(schedule_file), "--out", str(out)]) == 0
    objs = _objects(out)
    cron = objs["CronJob/pfdrill-weekly"]["spec"]
    assert cron["schedule"] == "0 6 * * 1" and cron["concurrencyPolicy"] == "Forbid"
    assert cron["startingDeadlineSeconds"] == 3600
    assert (cron["successfulJobsHistoryLimit"], cron["failedJobsHistoryLimit"]) == (3, 5)
    job = cron["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
    pod = job["template"]["spec"]
    assert pod["serviceAccountName"] == "pfdrill-drills" and pod["restartPolicy"] == "Never"
    (c,) = pod["containers"]
    assert c["args"][:2] == ["schedule", "run"] and "--in-cluster" in c["args"]
    webhook = next(e for e in c["env"] if e["name"] == "PFDRILL_SUMMARY_WEBHOOK")
    assert webhook["valueFrom"]["secretKeyRef"] == {"name": "pfdrill-summary-webhook", "key": "url"}
    project = next(v for v in pod["volumes"] if v["name"] == "project")["configMap"]["items"]
    assert {i["path"] for i in project} == {
        "drills/schedule.yaml", "drills/weekly.yaml",
        "runbooks/policy-enforcement-incident-response.md"}
    assert objs["ServiceAccount/pfdrill-drills"]["metadata"]["namespace"] == "production"
    assert objs["PersistentVolumeClaim/pfdrill-history"]["spec"]["resources"] == {
        "requests": {"storage": "1Gi"}}
    # a second render into the same directory is up to date
    assert main(["schedule", "render", "--file", str(schedule_file), "--out", str(out),
                 "--check"]) == 0
    (out / "rbac.yaml").write_text((out / "rbac.yaml").read_text().replace("- get\n", "- '*'\n"))
    assert main(["schedule", "render", "--file", str(schedule_file), "--out", str(out),
                 "--check"]) == 1
    assert "stale (rbac.yaml)" in capsys.readouterr().err


def test_the_role_is_namespaced_and_least_privilege(schedule_file: Path) -> None:
    objs = rbac.objects("production", "pfdrill-drills", {})
    role, binding, cluster_role, cluster_binding = objs
    assert role["kind"] == "Role" and role["metadata"]["namespace"] == "production"
    verbs = {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"]
             for r in rule["resources"] for v in rule["verbs"]}
    assert not any("*" in x for t in verbs for x in t)
    deletes = {(g, r) for g, r, v in verbs if v in ("delete", "deletecollection")}
    assert deletes == {("", "pods"), ("coordination.k8s.io", "leases"), ("", "configmaps")}
    assert [r["resourceNames"] for r in role["rules"] if r["resources"] == ["configmaps"]
            and "delete" in r["verbs"]] == [["policy-declass"]]  # that one, by name
    secrets = [rule for rule in role["rules"] if rule["resources"] == ["secrets"]]
    assert secrets == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "update"],
                        "resourceNames": ["fabric-certs"]}]
    # cluster-wide: reading the one opt-in namespace, nothing else
    assert cluster_role["rules"] == [{"apiGroups": [""], "resources": ["namespaces"],
                                      "verbs": ["get"], "resourceNames": ["production"]}]
    for b in (binding, cluster_binding):
        assert b["subjects"] == [{"kind": "ServiceAccount", "name": "pfdrill-drills",
                                  "namespace": "production"}]
    assert all(r.why for r in (*rbac.NAMESPACED, *rbac.CLUSTER))
