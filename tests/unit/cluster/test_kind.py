"""The kind provider, with its command runner faked: the exact commands are the contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdrill.cluster.kind import KindProvider
from pfdrill.cluster.runner import Completed, RecordingRunner
from pfdrill.errors import ClusterError, EnvironmentProblem, InvalidInput
from pfdrill.settings.paths import Paths


def _provider(tmp_path: Path, clusters: list[str], **kw: object) -> tuple[KindProvider, RecordingRunner]:
    def respond(args: tuple[str, ...]) -> Completed:
        if args[1:3] == ("get", "clusters"):
            return Completed(args, 0, "".join(f"{c}\n" for c in clusters), "")
        if args[1:3] == ("get", "nodes"):
            return Completed(args, 0, "pfdrill-control-plane\npfdrill-worker\n", "")
        return Completed(args, 0, "", "")

    runner = RecordingRunner(respond)
    p = KindProvider("pfdrill", paths=Paths(cache=tmp_path / "c", state=tmp_path / "s"),
                     runner=runner, kind_binary="kind", **kw)  # type: ignore[arg-type]
    return p, runner


def test_up_creates_with_config_then_loads_the_fabric_image(tmp_path: Path) -> None:
    p, runner = _provider(tmp_path, [])
    p.up()
    kubeconfig = str(tmp_path / "s" / "clusters" / "pfdrill" / "kubeconfig")
    config = str(tmp_path / "s" / "clusters" / "pfdrill" / "kind.yaml")
    assert runner.commands == [
        ("kind", "get", "clusters"),
        ("kind", "create", "cluster", "--name", "pfdrill", "--config", config,
         "--kubeconfig", kubeconfig, "--wait", "180s"),
        ("kind", "load", "docker-image", "pfdrill/fabric:dev", "--name", "pfdrill"),
        ("kind", "get", "clusters"),
    ]
    text = Path(config).read_text()
    assert "apiServerAddress: 127.0.0.1" in text and "role: worker" in text


def test_up_is_idempotent_and_exports_kubeconfig(tmp_path: Path) -> None:
    p, runner = _provider(tmp_path, ["pfdrill"])
    st = p.up()
    assert ("kind", "export", "kubeconfig", "--name", "pfdrill", "--kubeconfig",
            str(p.kubeconfig())) in runner.commands
    assert not any(c[1:3] == ("create", "cluster") for c in runner.commands)
    assert st.running and st.context == "kind-pfdrill"
    assert st.nodes == ("pfdrill-control-plane", "pfdrill-worker")


def test_user_config_file_and_node_image_are_passed_through(tmp_path: Path) -> None:
    cfg = tmp_path / "kind.yaml"
    cfg.write_text("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n")
    p, runner = _provider(tmp_path, [], config_file=cfg, node_image="kindest/node:v1.36.1", images=())
    p.up()
    create = next(c for c in runner.commands if c[1:3] == ("create", "cluster"))
    assert create[create.index("--config") + 1] == str(cfg)
    assert create[-2:] == ("--image", "kindest/node:v1.36.1")


def test_down_deletes_only_an_existing_cluster(tmp_path: Path) -> None:
    p, runner = _provider(tmp_path, ["pfdrill"])
    p.down()
    assert runner.commands[-1] == ("kind", "delete", "cluster", "--name", "pfdrill",
                                   "--kubeconfig", str(p.kubeconfig()))
    p2, runner2 = _provider(tmp_path, [])
    p2.down()
    assert runner2.commands == [("kind", "get", "clusters")]


def test_a_failing_kind_command_is_a_one_line_cluster_error(tmp_path: Path) -> None:
    def respond(args: tuple[str, ...]) -> Completed:
        if args[1:3] == ("get", "clusters"):
            return Completed(args, 0, "", "")
        return Completed(args, 1, "", "Creating cluster ...\nERROR: failed to create cluster: "
                                      "failed to ensure docker network: command \"docker network ls\" failed\n")

    p = KindProvider("pfdrill", paths=Paths(cache=tmp_path, state=tmp_path),
                     runner=RecordingRunner(respond), kind_binary="kind")
    with pytest.raises(ClusterError) as err:
        p.up()
    assert "\n" not in str(err.value)
    assert "failed to create cluster" in str(err.value)


def test_missing_config_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="kind config file does not exist"):
        KindProvider("pfdrill", config_file=tmp_path / "nope.yaml", runner=RecordingRunner())


REPO = Path(__file__).resolve().parents[3]


def test_up_builds_the_fabric_image_first_then_creates_and_loads_it(tmp_path: Path) -> None:
    p, runner = _provider(tmp_path, [], build_context=REPO, docker_binary="docker")
    p.up()
    assert runner.commands[:4] == [
        ("docker", "build", "-f", str(REPO / "deploy" / "fabric" / "Dockerfile"),
         "-t", "pfdrill/fabric:dev", str(REPO)),
        ("kind", "get", "clusters"),
        ("kind", "create", "cluster", "--name", "pfdrill", "--config",
         str(tmp_path / "s" / "clusters" / "pfdrill" / "kind.yaml"), "--kubeconfig",
         str(p.kubeconfig()), "--wait", "180s"),
        ("kind", "load", "docker-image", "pfdrill/fabric:dev", "--name", "pfdrill"),
    ]


def test_a_failed_image_build_stops_before_any_cluster_exists(tmp_path: Path) -> None:
    def respond(args: tuple[str, ...]) -> Completed:
        if args[0] == "docker":
            return Completed(args, 1, "", "#8 ERROR: failed to solve: process did not complete\n")
        return Completed(args, 0, "", "")

    runner = RecordingRunner(respond)
    p = KindProvider("pfdrill", paths=Paths(cache=tmp_path / "c", state=tmp_path / "s"),
                     runner=runner, kind_binary="kind", build_context=REPO, docker_binary="docker")
    with pytest.raises(ClusterError, match=r"^docker build of pfdrill/fabric:dev failed: #8 ERROR: "
                                           r"failed to solve: process did not complete$"):
        p.up()
    assert [c[0] for c in runner.commands] == ["docker"]


def test_a_build_context_must_be_a_pfdrill_checkout(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"not a pfdrill checkout to build the fabric image from "
                                           r"\(no deploy/fabric/Dockerfile\)"):
        KindProvider("pfdrill", paths=Paths(cache=tmp_path, state=tmp_path), build_context=tmp_path)


def test_no_docker_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    p = KindProvider("pfdrill", paths=Paths(cache=tmp_path, state=tmp_path), build_context=REPO,
                     runner=RecordingRunner())
    with pytest.raises(EnvironmentProblem, match=r"^docker not found: building the fabric image "
                                                 r"for kind needs a container engine"):
        p.up()


def test_the_image_kind_loads_is_the_one_the_kind_overlay_runs() -> None:
    from pfdrill.cluster.kind import DEFAULT_IMAGE
    from pfdrill.cluster.provider import ProviderKind
    from pfdrill.fabric import manifests

    objs = manifests.render(manifests.overlay(ProviderKind.KIND), None)
    fabric = {c["image"] for o in objs if o["kind"] == "Deployment"
              and o["metadata"]["labels"].get("app.kubernetes.io/part-of") == "provability-fabric"
              for c in o["spec"]["template"]["spec"]["containers"]}
    assert fabric == {DEFAULT_IMAGE}
