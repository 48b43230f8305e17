from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from fabric_support import DEPLOY

from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import ClusterError, InvalidInput, SafetyRefused
from pfdrill.fabric import deploy, manifests
from pfdrill.fabric.authority import Authority
from pfdrill.fabric.certs import BUNDLE_KEY, TrustBundle
from pfdrill.model.cluster import DeploymentState
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths

CONFIG = Config(allowed_contexts=("fake",))


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(cache=tmp_path / "cache", state=tmp_path / "state")


def test_render_has_the_contract_objects_and_a_matching_digest() -> None:
    bundle = Authority.generate().bundle()
    objs = manifests.render(DEPLOY, bundle)
    names = {(o["kind"], o["metadata"]["name"]) for o in objs}
    for want in [("Namespace", "production"), ("Deployment", "sidecar-watcher"),
                 ("Deployment", "policy-adapter"), ("Deployment", "prometheus"),
                 ("Service", "sidecar-watcher"), ("Service", "policy-adapter"), ("Service", "prometheus"),
                 ("ConfigMap", "policy-config"), ("ConfigMap", "dfa-artifact"),
                 ("ConfigMap", "policy-adapter-config"), ("ConfigMap", "fabric-chaos"),
                 ("Secret", "fabric-certs")]:
        assert want in names
    ns = next(o for o in objs if o["kind"] == "Namespace")
    assert ns["metadata"]["labels"]["pfdrill.dev/drills"] == "enabled"
    watcher = next(o for o in objs if o["kind"] == "Deployment" and o["metadata"]["name"] == "sidecar-watcher")
    tmpl = watcher["spec"]["template"]
    assert watcher["spec"]["replicas"] == 2 and tmpl["metadata"]["labels"]["app"] == "sidecar-watcher"
    assert tmpl["spec"]["containers"][0]["name"] == "sidecar-watcher"
    assert tmpl["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for dep in (o for o in objs if o["kind"] == "Deployment"):
        ann = dep["spec"]["template"]["metadata"]["annotations"]
        assert ann["pfdrill.dev/runtime"] == "process" and ann["prometheus.io/scrape"] == "true"
        assert ann["prometheus.io/port"]
    secret = next(o for o in objs if o["kind"] == "Secret")
    assert TrustBundle.parse(base64.b64decode(secret["data"][BUNDLE_KEY])).keys == bundle.keys
    kinds = [o["kind"] for o in objs]
    assert kinds.index("Namespace") == 0 and kinds.index("ConfigMap") < kinds.index("Deployment")


def test_render_without_bundle_has_no_secret_and_honours_the_namespace() -> None:
    objs = manifests.render(DEPLOY, None, namespace="drills", optin_label="team/drills=yes")
    assert not any(o["kind"] == "Secret" for o in objs)
    assert all(o["metadata"].get("namespace", "drills") == "drills" for o in objs)
    ns = next(o for o in objs if o["kind"] == "Namespace")
    assert ns["metadata"]["name"] == "drills" and ns["metadata"]["labels"]["team/drills"] == "yes"


def test_bad_policy_sources_name_the_file(tmp_path: Path) -> None:
    shutil.copytree(DEPLOY, tmp_path / "m")
    (tmp_path / "m" / "dfa.json").write_text('{"version": 1}')
    with pytest.raises(InvalidInput, match=r"dfa\.json: DFA refused"):
        manifests.render(tmp_path / "m", None)
    shutil.copy(DEPLOY / "dfa.json", tmp_path / "m" / "dfa.json")
    (tmp_path / "m" / "extra.yaml").write_text("kind: Thing\n")
    with pytest.raises(InvalidInput, match=r"extra\.yaml: document 1 is not a Kubernetes object"):
        manifests.render(tmp_path / "m", None)


def test_deploy_applies_everything_and_reports_status(paths: Paths) -> None:
    fake = FakeCluster()
    result = deploy.deploy(fake, config=CONFIG, paths=paths, manifest_dir=DEPLOY, timeout_s=1)
    assert result.ready and result.enforcement_mode == "enforce"
    assert result.dfa_sha256 and len(result.dfa_sha256) == 64
    applied = [c for c in fake.calls if c[0] == "apply"]
    assert len(applied) == 1 and ("v1", "Secret", "production", "fabric-certs") in applied[0][1][0]
    assert len([p for p in result.pods if p.labels["app"] == "sidecar-watcher"]) == 2
    assert (paths.state / "fabric-ca" / "fake" / "ca.key").is_file()


def test_deploy_refuses_a_context_off_the_allow_list_before_any_change(paths: Paths) -> None:
    fake = FakeCluster(context="prod-eu")
    with pytest.raises(SafetyRefused, match="prod-eu"):
        deploy.deploy(fake, config=CONFIG, paths=paths, manifest_dir=DEPLOY)
    assert fake.mutations == [] and not (paths.state / "fabric-ca").exists()


def test_deploy_refuses_an_existing_namespace_without_the_optin_label(paths: Paths) -> None:
    fake = FakeCluster()
    fake.add_namespace("production", {"team": "payments"})
    with pytest.raises(SafetyRefused, match="not opted in"):
        deploy.deploy(fake, config=CONFIG, paths=paths, manifest_dir=DEPLOY)
    assert fake.mutations == []


def test_wait_settled_times_out_naming_what_is_not_ready() -> None:
    class Stuck(FakeCluster):
        def get_deployment(self, namespace: str, name: str) -> DeploymentState:
            return DeploymentState(namespace, name, 2, 1, 1, 2, 1, 1)

    now = [0.0]
    with pytest.raises(ClusterError, match="sidecar-watcher: 1/2 available"):
        deploy.wait_settled(Stuck(), "production", timeout_s=3, clock=lambda: now[0],
                            sleep=lambda s: now.__setitem__(0, now[0] + s))


def test_undeploy_removes_what_deploy_applied(paths: Paths) -> None:
    fake = FakeCluster()
    deploy.deploy(fake, config=CONFIG, paths=paths, manifest_dir=DEPLOY, timeout_s=1)
    removed = deploy.undeploy(fake, config=CONFIG, manifest_dir=DEPLOY)
    assert "Namespace/production" in removed and "Secret/fabric-certs" in removed
    assert fake.list_objects("apps/v1", "Deployment", "production") == []
    assert deploy.undeploy(fake, config=CONFIG, manifest_dir=DEPLOY) == []


def test_undeploy_keeps_a_namespace_pfdrill_did_not_create() -> None:
    fake = FakeCluster()
    fake.add_namespace("production", {"pfdrill.dev/drills": "enabled"})
    removed = deploy.undeploy(fake, config=CONFIG, manifest_dir=DEPLOY)
    assert "Namespace/production" not in removed
    assert fake.namespace_labels("production") == {"pfdrill.dev/drills": "enabled"}


def test_status_reads_the_bundle_keys() -> None:
    fake = FakeCluster()
    ca = Authority.generate()
    fake.add_namespace("production")
    fake.add_secret("production", "fabric-certs", {BUNDLE_KEY: ca.bundle().to_json().encode()})
    got = deploy.status(fake)
    assert got.trust_bundle_keys == (ca.key_id,) and not got.ready
