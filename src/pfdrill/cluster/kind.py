"""kind: the same drills against real containers, through the ``kind`` CLI.

No container engine runs on pfdrill's own CI machine, so this provider is
tested with its command runner faked (the exact commands are asserted). In a
real CI (e.g. GitHub Actions with ``helm/kind-action``) it builds the fabric
image from a pfdrill checkout (``docker build -f deploy/fabric/Dockerfile``),
creates the cluster, loads the image into its nodes (``kind load
docker-image``: no registry) and deletes the cluster afterwards. The fabric
itself is the kind overlay (``deploy/overlays/kind``), applied by
``pfdrill fabric deploy --provider kind``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from pfdrill.cluster.provider import Progress, ProviderKind
from pfdrill.cluster.runner import CommandRunner, SubprocessRunner
from pfdrill.errors import ClusterError, EnvironmentProblem, InvalidInput
from pfdrill.model.cluster import ClusterStatus
from pfdrill.settings.paths import Paths

DEFAULT_IMAGE = "pfdrill/fabric:dev"  # the kind overlay's fabric image (a unit test holds them equal)
DOCKERFILE = Path("deploy") / "fabric" / "Dockerfile"


def _quiet(_msg: str) -> None:
    return None


class KindProvider:
    kind = ProviderKind.KIND

    def __init__(
        self,
        name: str = "pfdrill",
        *,
        paths: Paths | None = None,
        runner: CommandRunner | None = None,
        kind_binary: str | None = None,
        config_file: str | Path | None = None,
        workers: int = 1,
        images: tuple[str, ...] = (DEFAULT_IMAGE,),
        node_image: str | None = None,
        wait_seconds: int = 180,
        build_context: str | Path | None = None,
        docker_binary: str | None = None,
    ) -> None:
        if config_file is not None and not Path(config_file).is_file():
            raise InvalidInput("kind config file does not exist", file=config_file)
        if build_context is not None and not (Path(build_context) / DOCKERFILE).is_file():
            raise InvalidInput(f"not a pfdrill checkout to build the fabric image from "
                               f"(no {DOCKERFILE})", file=build_context)
        self.name = name
        self.paths = paths or Paths.from_env()
        self.runner = runner or SubprocessRunner()
        self._kind = kind_binary
        self.config_file = Path(config_file) if config_file else None
        self.workers = workers
        self.images = images
        self.node_image = node_image
        self.wait_seconds = wait_seconds
        self.build_context = Path(build_context) if build_context is not None else None
        self._docker = docker_binary

    def kubeconfig(self) -> Path:
        return self.paths.cluster_dir(self.name) / "kubeconfig"

    def context(self) -> str:
        return f"kind-{self.name}"

    def kind_binary(self) -> str:
        if self._kind:
            return self._kind
        found = shutil.which("kind")
        if found:
            return found
        from pfdrill.toolchain import build

        return str(build.load(paths=self.paths).path("kind"))

    def docker_binary(self) -> str:
        found = self._docker or shutil.which("docker")
        if not found:
            raise EnvironmentProblem("docker not found: building the fabric image for kind needs "
                                     "a container engine (docker, or podman with its docker CLI)")
        return found

    def build_image(self, image: str = DEFAULT_IMAGE, progress: Progress = _quiet) -> None:
        """``docker build`` the fabric image from the checkout in ``build_context``."""
        if self.build_context is None:
            raise InvalidInput("no pfdrill checkout given to build the fabric image from")
        progress(f"[cluster] building image {image} from {self.build_context}")
        args = ["build", "-f", str(self.build_context / DOCKERFILE), "-t", image,
                str(self.build_context)]
        done = self.runner.run([self.docker_binary(), *args], timeout=1800)
        if done.returncode != 0:
            raise ClusterError(f"docker build of {image} failed: {done.last_error()}")

    def generated_config(self) -> dict[str, object]:
        nodes: list[dict[str, str]] = [{"role": "control-plane"}]
        nodes += [{"role": "worker"} for _ in range(self.workers)]
        return {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4",
                "networking": {"apiServerAddress": "127.0.0.1"}, "nodes": nodes}

    def _config_path(self) -> Path:
        if self.config_file:
            return self.config_file
        path = self.paths.cluster_dir(self.name) / "kind.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.generated_config(), sort_keys=False))
        return path

    def _run(self, *args: str, timeout: float = 600) -> str:
        done = self.runner.run([self.kind_binary(), *args], timeout=timeout)
        if done.returncode != 0:
            raise ClusterError(f"kind {' '.join(args[:2])} failed: {done.last_error()}")
        return done.stdout

    def clusters(self) -> list[str]:
        return [ln.strip() for ln in self._run("get", "clusters").splitlines() if ln.strip()]

    def up(self, progress: Progress = _quiet) -> ClusterStatus:
        if self.build_context is not None:  # before the cluster: a bad build changes nothing
            self.build_image(DEFAULT_IMAGE, progress)
        if self.name in self.clusters():
            progress(f"[cluster] kind cluster {self.name!r} already exists")
            self._run("export", "kubeconfig", "--name", self.name, "--kubeconfig", str(self.kubeconfig()))
        else:
            self.kubeconfig().parent.mkdir(parents=True, exist_ok=True)
            args = ["create", "cluster", "--name", self.name, "--config", str(self._config_path()),
                    "--kubeconfig", str(self.kubeconfig()), "--wait", f"{self.wait_seconds}s"]
            if self.node_image:
                args += ["--image", self.node_image]
            progress(f"[cluster] creating kind cluster {self.name!r}")
            self._run(*args, timeout=self.wait_seconds + 120)
        for image in self.images:
            self.load_image(image, progress)
        return self.status()

    def load_image(self, image: str, progress: Progress = _quiet) -> None:
        progress(f"[cluster] loading image {image} into kind cluster {self.name!r}")
        self._run("load", "docker-image", image, "--name", self.name)

    def down(self, progress: Progress = _quiet) -> None:
        if self.name in self.clusters():
            progress(f"[cluster] deleting kind cluster {self.name!r}")
            self._run("delete", "cluster", "--name", self.name, "--kubeconfig", str(self.kubeconfig()))
        self.kubeconfig().unlink(missing_ok=True)

    def status(self) -> ClusterStatus:
        running = self.name in self.clusters()
        nodes: tuple[str, ...] = ()
        if running:
            nodes = tuple(n for n in self._run("get", "nodes", "--name", self.name).split() if n)
        return ClusterStatus(name=self.name, provider=self.kind.value, context=self.context(),
                             kubeconfig=str(self.kubeconfig()), running=running, nodes=nodes,
                             detail="" if running else "not created")
