from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from fabric_support import DEPLOY, REPO

from pfdrill.cluster import lease
from pfdrill.cluster.fake import FakeCluster
from pfdrill.cluster.provider import ProviderKind
from pfdrill.errors import ClusterError, InvalidInput, LeaseHeld, SafetyRefused, ToolchainError
from pfdrill.fabric import deploy, dfa, kustomize, manifests
from pfdrill.fabric.authority import Authority
from pfdrill.fabric.certs import BUNDLE_KEY, TrustBundle
from pfdrill.model.cluster import DeploymentState
from pfdrill.settings.config import Config
from pfdrill.settings.paths import Paths
from pfdrill.toolchain.versions import Versions

CONFIG = Config(allowed_contexts=("fake",))


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(cache=tmp_path / "cache", state=tmp_path / "state")


def test_render_has_the_contract_objects_and_a_matching_digest() -> None:
    bundle = Authority.generate().bundle()
    objs = manifests.render(manifests.overlay(ProviderKind.KWOK), bundle)
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
    objs = manifests.render(manifests.overlay(ProviderKind.KWOK), None, namespace="drills",
                            optin_label="team/drills=yes")
    assert not any(o["kind"] == "Secret" for o in objs)
    assert all(o["metadata"].get("namespace", "drills") == "drills" for o in objs)
    ns = next(o for o in objs if o["kind"] == "Namespace")
    assert ns["metadata"]["name"] == "drills" and ns["metadata"]["labels"]["team/drills"] == "yes"


def test_bad_policy_sources_name_the_overlay(tmp_path: Path) -> None:
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    overlay = tmp_path / "deploy" / "overlays" / "kwok"
    (tmp_path / "deploy" / "fabric" / "dfa.json").write_text('{"version": 1}')
    with pytest.raises(InvalidInput, match=r"overlays/kwok: ConfigMap dfa-artifact: DFA refused: "
                                           r"sha256 mismatch"):
        manifests.render(overlay, None)
    shutil.copy(DEPLOY / "dfa.json", tmp_path / "deploy" / "fabric" / "dfa.json")
    (tmp_path / "deploy" / "fabric" / "adapter-rules.yaml").write_text("rules: 3\n")
    with pytest.raises(InvalidInput, match=r"overlays/kwok: ConfigMap policy-adapter-config: "):
        manifests.render(overlay, None)
    (tmp_path / "deploy" / "fabric" / "kustomization.yaml").write_text("resources: [gone.yaml]\n")
    with pytest.raises(InvalidInput, match=r"overlays/kwok: kubectl kustomize failed: .*gone\.yaml"):
        manifests.render(overlay, None)
    with pytest.raises(InvalidInput, match=r"no kustomization\.yaml"):
        manifests.render(tmp_path / "deploy", None)


def test_the_committed_dfa_digest_is_that_of_dfa_json() -> None:
    raw = (DEPLOY / "dfa.json").read_bytes()
    assert (DEPLOY / "dfa.json.sha256").read_text() == dfa.digest_line(raw)


def _deployments(objs: list[manifests.Obj]) -> dict[str, manifests.Obj]:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == "Deployment"}


def _annotations(dep: manifests.Obj) -> dict[str, str]:
    return dict(dep["spec"]["template"]["metadata"].get("annotations") or {})


def test_each_overlay_differs_from_the_base_only_where_its_cluster_needs() -> None:
    kwok, kind, existing = (_deployments(manifests.render(manifests.overlay(t), None))
                            for t in (ProviderKind.KWOK, ProviderKind.KIND, ProviderKind.EXISTING))
    # kwok: every pod runs under the process runtime; Prometheus is a stand-in
    assert all(_annotations(d)["pfdrill.dev/runtime"] == "process" for d in kwok.values())
    assert _annotations(kwok["prometheus"])["pfdrill.dev/stand-in"] == "prometheus"
    # kind: real containers from a kind-loaded image, a real Prometheus
    assert set(kind) == set(kwok)
    for name, dep in kind.items():
        assert not any(k.startswith("pfdrill.dev/") for k in _annotations(dep))
        container = dep["spec"]["template"]["spec"]["containers"][0]
        if name == "prometheus":
            assert container["image"].startswith("prom/prometheus:")
        else:
            assert container["image"] == "pfdrill/fabric:dev"
            assert container["imagePullPolicy"] == "Never"
    # existing: the team's Prometheus does the scraping; nothing pfdrill-specific
    assert set(existing) == {"sidecar-watcher", "policy-adapter"}
    assert not any(k.startswith("pfdrill.dev/") for d in existing.values() for k in _annotations(d))
    assert all(_annotations(d)["prometheus.io/scrape"] == "true" for d in existing.values())


def test_no_kubectl_is_one_line_saying_how_to_get_it(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PFDRILL_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ToolchainError, match=r"^kubectl not found: run 'pfdrill toolchain ensure' "
                                             r"\(builds it from Go modules\) or put kubectl on PATH$"):
        kustomize.build(REPO / "deploy" / "overlays" / "kind")


def test_deploy_applies_everything_and_reports_status(paths: Paths) -> None:
    fake = FakeCluster()
    result = deploy.deploy(fake, config=CONFIG, paths=paths, timeout_s=1)
    assert result.ready and result.enforcement_mode == "enforce"
    assert result.dfa_sha256 and len(result.dfa_sha256) == 64
    applied = [c for c in fake.calls if c[0] == "apply"]
    # the new namespace first (a Lease lives in it), then everything under the Lease
    assert applied[0][1][0] == [("v1", "Namespace", "", "production")]
    assert len(applied) == 2 and ("v1", "Secret", "production", "fabric-certs") in applied[1][1][0]
    assert fake.leases == {}  # released once ready
    assert len([p for p in result.pods if p.labels["app"] == "sidecar-watcher"]) == 2
    assert (paths.state / "fabric-ca" / "fake" / "ca.key").is_file()


def test_deploy_applies_under_the_drill_lease_and_never_beside_a_drill(paths: Paths) -> None:
    # Two runs brought up at the same instant both find no fabric and both deploy: the
    # apply must be exclusive with a drill, not preceded by a look at the Lease.
    fake = FakeCluster()
    held_at_apply: list[str | None] = []
    real_apply = fake.apply

    def apply(objects: Any, field_manager: str = "pfdrill") -> None:
        held_at_apply.append(fake.lease_holder("production", lease.LEASE_NAME))
        real_apply(objects, field_manager)

    fake.apply = apply  # type: ignore[method-assign]
    deploy.deploy(fake, config=CONFIG, paths=paths, timeout_s=1)
    assert held_at_apply[0] is None  # the namespace alone, before any Lease can exist
    assert held_at_apply[1] is not None and "/fabric-deploy-" in held_at_apply[1]
    # a drill holds the namespace (the other run won): refused, nothing of the fabric applied
    drill = "pfdrill/elsewhere/4242/the-other-run"
    assert fake.acquire_lease("production", lease.LEASE_NAME, drill, 600)
    fake.calls.clear()
    with pytest.raises(LeaseHeld, match="the-other-run"):
        deploy.deploy(fake, config=CONFIG, paths=paths, timeout_s=1)
    assert fake.mutations == [] or all(c[0] != "apply" for c in fake.calls)
    assert fake.lease_holder("production", lease.LEASE_NAME) == drill


def test_deploy_refuses_a_context_off_the_allow_list_before_any_change(paths: Paths) -> None:
    fake = FakeCluster(context="prod-eu")
    with pytest.raises(SafetyRefused, match="prod-eu"):
        deploy.deploy(fake, config=CONFIG, paths=paths)
    assert fake.mutations == [] and not (paths.state / "fabric-ca").exists()


def test_deploy_refuses_an_existing_namespace_without_the_optin_label(paths: Paths) -> None:
    fake = FakeCluster()
    fake.add_namespace("production", {"team": "payments"})
    with pytest.raises(SafetyRefused, match="not opted in"):
        deploy.deploy(fake, config=CONFIG, paths=paths)
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
    deploy.deploy(fake, config=CONFIG, paths=paths, timeout_s=1)
    removed = deploy.undeploy(fake, config=CONFIG)
    assert "Namespace/production" in removed and "Secret/fabric-certs" in removed
    assert fake.list_objects("apps/v1", "Deployment", "production") == []
    assert deploy.undeploy(fake, config=CONFIG) == []


def test_undeploy_keeps_a_namespace_pfdrill_did_not_create() -> None:
    fake = FakeCluster()
    fake.add_namespace("production", {"pfdrill.dev/drills": "enabled"})
    removed = deploy.undeploy(fake, config=CONFIG)
    assert "Namespace/production" not in removed
    assert fake.namespace_labels("production") == {"pfdrill.dev/drills": "enabled"}


def test_status_reads_the_bundle_keys() -> None:
    fake = FakeCluster()
    ca = Authority.generate()
    fake.add_namespace("production")
    fake.add_secret("production", "fabric-certs", {BUNDLE_KEY: ca.bundle().to_json().encode()})
    got = deploy.status(fake)
    assert got.trust_bundle_keys == (ca.key_id,) and not got.ready


@pytest.mark.parametrize("target", [ProviderKind.KIND, ProviderKind.EXISTING])
def test_deploy_applies_exactly_the_providers_overlay(target: ProviderKind, paths: Paths) -> None:
    context = "kind-pfdrill" if target is ProviderKind.KIND else "staging"
    fake = FakeCluster(context=context)
    deploy.deploy(fake, target=target, config=Config(allowed_contexts=(context,)), paths=paths,
                  timeout_s=1)
    overlay = manifests.render(manifests.overlay(target), None)
    for want in overlay:
        meta = want["metadata"]
        got = fake.get_object(want["apiVersion"], want["kind"], meta.get("namespace"), meta["name"])
        assert got is not None, (want["kind"], meta["name"])
        for part in ("spec", "data", "rules", "subjects"):
            assert got.get(part) == want.get(part), (want["kind"], meta["name"], part)
    namespace, applied = [c[1][0] for c in fake.calls if c[0] == "apply"]
    assert namespace == [("v1", "Namespace", "", "production")]  # first: the Lease lives there
    assert len(applied) == len(overlay) + 1  # + Secret fabric-certs
    assert ("v1", "Secret", "production", "fabric-certs") in applied


@pytest.mark.parametrize("target", list(ProviderKind))
def test_fabric_render_prints_what_kubectl_apply_k_applies(
        target: ProviderKind, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    from pfdrill.cli import main
    from pfdrill.toolchain import build

    overlay = REPO / "deploy" / "overlays" / target.value
    raw = subprocess.run([str(build.binary("kubectl")), "kustomize", str(overlay)],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    direct = sorted((yaml.safe_load_all(raw)), key=lambda o: (o["kind"], o["metadata"]["name"]))
    assert main(["fabric", "render", "--target", target.value]) == 0
    printed = sorted(yaml.safe_load_all(capsys.readouterr().out),
                     key=lambda o: (o["kind"], o["metadata"]["name"]))
    assert printed == direct


def test_the_in_cluster_prometheus_loads_the_committed_drill_rules() -> None:
    # (Debian's promtool cannot check this config: its Prometheus is built without
    # kubernetes_sd_configs; the toolchain's Prometheus loads it in
    # tests/integration/test_incluster_obs.py.)
    objs = manifests.render(manifests.overlay(ProviderKind.KIND), None)
    config = yaml.safe_load(manifests.configmap_data(objs, "prometheus-config")["prometheus.yml"])
    config_file = next(a.split("=", 1)[1] for a in _deployments(objs)["prometheus"]["spec"]
                       ["template"]["spec"]["containers"][0]["args"] if a.startswith("--config.file="))
    # Prometheus resolves rule_files against the config file's directory.
    (rule_glob,) = config["rule_files"]
    assert os.path.normpath(os.path.join(os.path.dirname(config_file), rule_glob)) == \
        "/etc/prometheus/rules/*.yml"
    (discovery,) = config["alerting"]["alertmanagers"][0]["kubernetes_sd_configs"]
    assert discovery["role"] == "endpoints"
    mounts = {m["name"]: m["mountPath"] for m in _deployments(objs)["prometheus"]["spec"]["template"]
              ["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["rules"] == "/etc/prometheus/rules"
    rules = manifests.configmap_data(objs, "pfdrill-alert-rules")
    assert rules == {"pfdrill-alerts.yml": (REPO / "deploy" / "alerts" / "drill" /
                                            "pfdrill-alerts.yml").read_text()}


def test_the_in_cluster_prometheus_discovers_in_its_own_namespace_through_the_environment_proxy() -> None:
    """Namespace-free discovery, so pfdrill may deploy it into any opted-in namespace, and
    every discovered address honours HTTP_PROXY: no-op on a real cluster, the pod network
    on kwok (deploy/RUNTIME-CONTRACT.md, "images")."""
    objs = manifests.render(manifests.overlay(ProviderKind.KIND), None, namespace="drills")
    config = yaml.safe_load(manifests.configmap_data(objs, "prometheus-config")["prometheus.yml"])
    discovering = [*config["scrape_configs"], *config["alerting"]["alertmanagers"]]
    assert discovering
    for block in discovering:
        assert block["proxy_from_environment"] is True
        for sd in block["kubernetes_sd_configs"]:
            assert sd["namespaces"] == {"own_namespace": True}
    prometheus = _deployments(objs)["prometheus"]["spec"]["template"]["spec"]
    assert prometheus["containers"][0]["image"] == \
        f"prom/prometheus:{Versions().prometheus}"  # the release the toolchain builds
    assert "--web.enable-lifecycle" in prometheus["containers"][0]["args"]
