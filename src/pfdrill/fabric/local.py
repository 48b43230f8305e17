"""The fabric as plain local processes: one adapter and N watchers on free ports.

Used by the integration tests and ``benchmarks/fabric.py``, and handy for
trying the fabric without a cluster. Volumes are laid out exactly as the
kubelet (and pfdrill's process runtime) projects them — one file per key
behind an atomically swapped ``..data`` symlink — and :meth:`LocalFabric.update`
performs the same swap, so hot reload is exercised the real way.

Every process is started with ``--port 0`` on 127.0.0.1; its real port is
read from its ``event=listening`` log line, so there is no port race.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from pfdrill.cluster.provider import ProviderKind
from pfdrill.errors import ServiceUnavailable
from pfdrill.fabric import logline, manifests
from pfdrill.fabric.authority import Authority
from pfdrill.fabric.certs import BUNDLE_KEY
from pfdrill.model.fabric import FABRIC

VOLUMES = (FABRIC.policy_config, FABRIC.dfa_artifact, FABRIC.certs_secret, FABRIC.chaos_config, FABRIC.adapter_config)
_generation = itertools.count(1)


def _closed_port() -> int:
    """A loopback port nobody listens on (an adapter that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def project(volume: Path, data: dict[str, str]) -> None:
    """Write ``data`` into ``volume`` the kubelet's way (new dir, atomic ``..data`` swap)."""
    volume.mkdir(parents=True, exist_ok=True)
    target = volume / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{os.getpid()}.{next(_generation)}"
    target.mkdir()
    for key, value in data.items():
        (target / key).write_text(value, encoding="utf-8")
    old = os.path.realpath(volume / "..data") if (volume / "..data").exists() else None
    tmp = volume / "..data_tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.name)
    os.replace(tmp, volume / "..data")
    for entry in volume.iterdir():
        if not entry.name.startswith(".") and entry.is_symlink() and entry.name not in data:
            entry.unlink()  # a key removed from the ConfigMap
    for key in data:
        link = volume / key
        if not link.is_symlink():
            link.symlink_to(f"..data/{key}")
    if old is not None and Path(old).name != target.name:
        shutil.rmtree(old, ignore_errors=True)


@dataclasses.dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    workdir: Path
    url: str = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def lines(self) -> list[logline.LogLine]:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return [p for p in map(logline.parse, text.splitlines()) if p is not None]


class LocalFabric:
    def __init__(self, root: Path | None = None, manifest_dir: Path | None = None,
                 authority: Authority | None = None) -> None:
        self._owns_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="pfdrill-fabric-"))
        self.authority = authority or Authority.generate()
        self.manifest_dir = manifest_dir or manifests.overlay(ProviderKind.KWOK)
        self.adapter: Process | None = None
        self.watchers: list[Process] = []
        self._seq = itertools.count()
        objects = manifests.render(self.manifest_dir, None)
        self.volumes = {name: self.root / "volumes" / name for name in VOLUMES}
        project(self.volumes[FABRIC.policy_config], manifests.configmap_data(objects, FABRIC.policy_config))
        project(self.volumes[FABRIC.dfa_artifact], manifests.configmap_data(objects, FABRIC.dfa_artifact))
        project(self.volumes[FABRIC.adapter_config],
                manifests.configmap_data(objects, FABRIC.adapter_config))
        project(self.volumes[FABRIC.chaos_config], {})
        project(self.volumes[FABRIC.certs_secret], {BUNDLE_KEY: self.authority.bundle().to_json()})
        self.data: dict[str, dict[str, str]] = {
            name: manifests.configmap_data(objects, name)
            for name in (FABRIC.policy_config, FABRIC.dfa_artifact, FABRIC.adapter_config)}
        self.data[FABRIC.chaos_config] = {}

    # -- volumes ------------------------------------------------------------------
    def update(self, volume: str, **changes: str | None) -> None:
        """Patch a ConfigMap's data like ``kubectl patch`` (None removes a key) and re-project it."""
        data = dict(self.data.get(volume, {}))
        for k, v in changes.items():
            if v is None:
                data.pop(k, None)
            else:
                data[k] = v
        self.replace(volume, data)

    def replace(self, volume: str, data: dict[str, str]) -> None:
        self.data[volume] = dict(data)
        project(self.volumes[volume], data)

    # -- processes ----------------------------------------------------------------
    def _spawn(self, name: str, script: str, args: list[str], env: dict[str, str] | None = None) -> Process:
        workdir = self.root / "pods" / f"{name}-{next(self._seq)}"
        workdir.mkdir(parents=True)
        log = workdir / "stdout.log"
        exe = str(Path(sys.executable).parent / script)
        with log.open("wb") as out:
            proc = subprocess.Popen([exe, "--host", "127.0.0.1", "--port", "0", *args],
                                    cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                                    env={**os.environ, **(env or {})})
        return Process(name, proc, log, workdir)

    def _await_ready(self, p: Process, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if p.proc.poll() is not None:
                raise ServiceUnavailable(f"{p.name} exited with {p.proc.returncode}: {self._tail(p)}")
            if not p.url:
                for line in p.lines():
                    if line.event == "listening":
                        p.url = "http://" + line.fields["address"]
            if p.url:
                try:
                    if httpx.get(p.url + "/readyz", timeout=1).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.05)
        raise ServiceUnavailable(f"{p.name} not ready after {timeout_s:.0f}s: {self._tail(p)}")

    @staticmethod
    def _tail(p: Process) -> str:
        text = p.log.read_text(errors="replace").strip().splitlines() if p.log.exists() else []
        return " | ".join(text[-3:]) or "(no output)"

    def start_adapter(self, timeout_s: float = 20) -> Process:
        p = self._spawn(FABRIC.adapter, FABRIC.adapter, [
            "--config-dir", str(self.volumes[FABRIC.adapter_config]),
            "--policy-config-dir", str(self.volumes[FABRIC.policy_config])])
        self._await_ready(p, timeout_s)
        self.adapter = p
        return p

    def start_watcher(self, timeout_s: float = 20, adapter_url: str | None = None) -> Process:
        url = adapter_url or (self.adapter.url if self.adapter else f"http://127.0.0.1:{_closed_port()}")
        p = self._spawn(FABRIC.watcher, FABRIC.watcher, [
            "--config-dir", str(self.volumes[FABRIC.policy_config]),
            "--dfa-dir", str(self.volumes[FABRIC.dfa_artifact]),
            "--certs-dir", str(self.volumes[FABRIC.certs_secret]),
            "--chaos-dir", str(self.volumes[FABRIC.chaos_config]),
            "--adapter-url", url])
        self._await_ready(p, timeout_s)
        self.watchers.append(p)
        return p

    def start(self, watchers: int = 2) -> LocalFabric:
        self.start_adapter()
        for _ in range(watchers):
            self.start_watcher()
        return self

    @staticmethod
    def terminate(p: Process, timeout_s: float = 10) -> int:
        if p.proc.poll() is None:
            p.proc.send_signal(signal.SIGTERM)
            try:
                p.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait()
        return p.proc.returncode

    def stop(self) -> None:
        for p in [*self.watchers, *([self.adapter] if self.adapter else [])]:
            self.terminate(p)
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalFabric:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
