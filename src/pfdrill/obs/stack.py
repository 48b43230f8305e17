"""The local observability stack: real Prometheus and Alertmanager processes on 127.0.0.1.

State lives in ``<state>/obs/<cluster>/``::

    endpoints.json      URLs, profile, rules dir, targets file (read by other tools)
    prometheus.yml      rendered by pfdrill; scrape + rules + alerting
    alertmanager.yml    one webhook receiver per severity, pointing at the sink
    rules/              the LIVE rules dir (pfdrill-alerts.yml); edit, then reload()
    prometheus/         pidfile, log, TSDB (wiped on every start: a drill starts clean)
    alertmanager/       pidfile, log, storage

Both servers are detached (they outlive the CLI call); ``up`` is idempotent;
``down`` leaves no process and no listening port behind. For kind or an
existing cluster, :func:`resolve` points pfdrill at in-cluster URLs instead
(``prometheus_url`` / ``alertmanager_url`` in the pfdrill config).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from pfdrill.errors import EnvironmentProblem, ServiceUnavailable
from pfdrill.formats import duration
from pfdrill.obs import amtool, promtool, rules
from pfdrill.obs import config as obs_config
from pfdrill.obs.api import AlertmanagerAPI, PrometheusAPI
from pfdrill.obs.profile import AlertTiming
from pfdrill.proc.daemon import Daemon
from pfdrill.proc.ports import free_port
from pfdrill.settings import Config, Paths

PROMETHEUS_BIN = "/usr/bin/prometheus"
ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"
START_TIMEOUT_S = 60.0
DISCOVERY_TIMEOUT_S = 15.0


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """Where detection reads from; ``local`` when pfdrill started the servers itself."""

    cluster: str
    profile: str
    prometheus_url: str
    alertmanager_url: str | None
    sink_url: str | None
    local: bool
    rules_dir: str | None = None
    rules_configmap: str | None = None  # Prometheus in the cluster: its rules ConfigMap[/key]
    targets_file: str | None = None
    started_at: float = 0.0

    def where(self) -> str:
        """Where detection runs, as a report says it."""
        if self.local:
            return (f"pfdrill's local Prometheus {self.prometheus_url} and Alertmanager "
                    f"{self.alertmanager_url} ({self.profile} profile)")
        rules = (f" (rules ConfigMap {self.rules_configmap})" if self.rules_configmap else
                 f" (rules in {self.rules_dir})" if self.rules_dir else "")
        return (f"configured Prometheus {self.prometheus_url}"
                + (f" and Alertmanager {self.alertmanager_url}" if self.alertmanager_url else "")
                + rules)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Endpoints:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclasses.dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    url: str | None
    ready: bool

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _binary(path: str, env: str) -> str:
    chosen = os.environ.get(env) or path
    if not Path(chosen).is_file():
        raise EnvironmentProblem(f"{chosen} not found (apt-get install prometheus prometheus-alertmanager)")
    return chosen


class ObsStack:
    """The local stack of one cluster."""

    def __init__(self, cluster: str, paths: Paths | None = None) -> None:
        self.cluster = cluster
        self.directory = (paths or Paths.from_env()).state / "obs" / cluster
        self.prometheus = Daemon("prometheus", self.directory / "prometheus")
        self.alertmanager = Daemon("alertmanager", self.directory / "alertmanager")

    @property
    def endpoints_file(self) -> Path:
        return self.directory / "endpoints.json"

    @property
    def rules_dir(self) -> Path:
        """The live rules directory Prometheus loads ``*.yml`` from."""
        return self.directory / "rules"

    def endpoints(self) -> Endpoints | None:
        try:
            return Endpoints.from_dict(json.loads(self.endpoints_file.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def running(self) -> bool:
        return self.prometheus.pid() is not None and self.alertmanager.pid() is not None

    # lifecycle ------------------------------------------------------------------------
    def up(self, profile: AlertTiming, *, targets_file: Path, sink_url: str,
           rules_source: Path | None = None) -> Endpoints:
        """Start (or keep) Prometheus and Alertmanager configured for ``profile``."""
        current = self.endpoints()
        if (current is not None and self.running() and current.profile == profile.name.value
                and current.sink_url == sink_url and current.targets_file == str(targets_file)):
            with PrometheusAPI(current.prometheus_url) as client:
                if client.ready():
                    return current
        self.down()
        self.directory.mkdir(parents=True, exist_ok=True)
        # Render and check now (bad rules fail before anything starts), but load them only
        # once Prometheus has discovered its targets: it publishes discovery results every
        # 5 s, and rules evaluated before that see no sidecar and fire SidecarWatcherAllDown.
        staging = self.directory / "rules.staged"
        staged = rules.render_to(staging, profile, rules_source)
        promtool.check_rules(staged, source=rules_source or rules.alerts_dir() / rules.RULES_FILE)
        shutil.rmtree(self.rules_dir, ignore_errors=True)
        self.rules_dir.mkdir(parents=True)
        if not targets_file.exists():  # Prometheus watches the file; give it one to watch
            targets_file.parent.mkdir(parents=True, exist_ok=True)
            targets_file.write_text("[]\n", encoding="utf-8")
        try:
            am_url = self._start_alertmanager(profile, sink_url)
            prom_url = self._start_prometheus(profile, targets_file, am_url, sink_url)
            self._load_rules_after_discovery(prom_url, staged)
        except BaseException:
            self.down()  # never leave half a stack behind a failed `up`
            raise
        endpoints = Endpoints(
            cluster=self.cluster, profile=profile.name.value, prometheus_url=prom_url,
            alertmanager_url=am_url, sink_url=sink_url, local=True,
            rules_dir=str(self.rules_dir), targets_file=str(targets_file), started_at=time.time(),
        )
        tmp = self.endpoints_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(endpoints.to_dict(), indent=2), encoding="utf-8")
        os.replace(tmp, self.endpoints_file)
        return endpoints

    def _start_alertmanager(self, profile: AlertTiming, sink_url: str) -> str:
        cfg = obs_config.dump(obs_config.alertmanager(profile, sink_url),
                              self.directory / "alertmanager.yml")
        amtool.check_config(cfg)
        storage = self.alertmanager.directory / "data"
        shutil.rmtree(storage, ignore_errors=True)

        def argv(port: int) -> list[str]:
            return [
                _binary(ALERTMANAGER_BIN, "PFDRILL_ALERTMANAGER"), f"--config.file={cfg}",
                f"--storage.path={storage}", f"--web.listen-address=127.0.0.1:{port}",
                f"--web.external-url=http://127.0.0.1:{port}/",
                "--cluster.listen-address=",  # no HA gossip port (it would bind 0.0.0.0:9094)
            ]

        return self._start(self.alertmanager, argv, AlertmanagerAPI)

    def _start_prometheus(self, profile: AlertTiming, targets_file: Path, am_url: str,
                          sink_url: str) -> str:
        cfg = obs_config.dump(
            obs_config.prometheus(profile, rules_dir=self.rules_dir, targets_file=targets_file,
                                  alertmanager=am_url.split("//", 1)[1].rstrip("/"),
                                  sink=sink_url.split("//", 1)[1].rstrip("/"),
                                  cluster=self.cluster),
            self.directory / "prometheus.yml",
        )
        data = self.prometheus.directory / "data"
        shutil.rmtree(data, ignore_errors=True)

        def argv(port: int) -> list[str]:
            return [
                _binary(PROMETHEUS_BIN, "PFDRILL_PROMETHEUS"), f"--config.file={cfg}",
                f"--storage.tsdb.path={data}", f"--web.listen-address=127.0.0.1:{port}",
                f"--web.external-url=http://127.0.0.1:{port}/",
                "--web.enable-lifecycle",  # POST /-/reload after a rules edit
                "--storage.tsdb.retention.time=2d",
                f"--rules.alert.resend-delay={duration.text(profile.resend_delay_s)}",
            ]

        return self._start(self.prometheus, argv, PrometheusAPI)

    def _load_rules_after_discovery(self, prom_url: str, staged: Path) -> None:
        with PrometheusAPI(prom_url) as client:
            # The sink's static target shows up with the first discovery update; the
            # Alertmanager too, and an alert that fires before that is dropped, not queued.
            deadline = time.monotonic() + DISCOVERY_TIMEOUT_S
            while (not client.targets() or not client.alertmanagers()) and time.monotonic() < deadline:
                time.sleep(0.1)
            os.replace(staged, self.rules_dir / rules.RENDERED_FILE)
            client.reload()

    def _start(self, daemon: Daemon, argv: Any, api: type[PrometheusAPI] | type[AlertmanagerAPI]) -> str:
        last: EnvironmentProblem | None = None
        for _attempt in range(3):  # a free port can be taken between probe and bind
            port = free_port()
            daemon.start(argv(port))
            url = f"http://127.0.0.1:{port}"
            client = api(url)
            try:
                daemon.wait_until(client.ready, START_TIMEOUT_S, "ready")
                return url
            except EnvironmentProblem as exc:
                last = exc
                daemon.stop()
            finally:
                client.close()
        assert last is not None
        raise last

    def down(self) -> list[str]:
        """Stop both servers; return the names of those that were running."""
        stopped = [d.name for d in (self.prometheus, self.alertmanager) if d.stop()]
        self.endpoints_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> list[ComponentStatus]:
        ep = self.endpoints()
        out = []
        for daemon, url, api in ((self.prometheus, ep.prometheus_url if ep else None, PrometheusAPI),
                                 (self.alertmanager, ep.alertmanager_url if ep else None,
                                  AlertmanagerAPI)):
            pid = daemon.pid()
            ready = False
            if pid is not None and url:
                with api(url) as client:
                    ready = client.ready()
            out.append(ComponentStatus(daemon.name, pid, url if pid else None, ready))
        return out

    # live rules (pfctl monitoring edits them) -----------------------------------------------
    def reload(self) -> None:
        """Validate the live rules with promtool, then make Prometheus re-read them."""
        ep = self.endpoints()
        if ep is None or not self.running():
            raise ServiceUnavailable(f"the observability stack of {self.cluster!r} is not running "
                                     "(pfdrill obs up)")
        for rule_file in sorted(self.rules_dir.glob("*.yml")):
            promtool.check_rules(rule_file)
        with PrometheusAPI(ep.prometheus_url) as client:
            client.reload()


def resolve(config: Config, cluster: str, paths: Paths | None = None,
            external_profile: str = "production") -> Endpoints:
    """The endpoints detection should use: the configured in-cluster URLs, else the local stack.

    In-cluster servers run whichever rendering of the rules their team loaded;
    ``external_profile`` says which (it decides the detection bounds).
    """
    if config.prometheus_url:
        local = ObsStack(cluster, paths).endpoints()
        return Endpoints(
            cluster=cluster, profile=external_profile, prometheus_url=config.prometheus_url,
            alertmanager_url=config.alertmanager_url,
            sink_url=config.sink_url or (local.sink_url if local else None),
            local=False, rules_dir=config.rules_dir, rules_configmap=config.rules_configmap,
        )
    found = ObsStack(cluster, paths).endpoints()
    if found is None:
        raise ServiceUnavailable(f"no observability stack for cluster {cluster!r}: run "
                                 "`pfdrill obs up`, or set prometheus_url in the pfdrill config")
    return found


def reload(endpoints: Endpoints, paths: Paths | None = None) -> None:
    """Reload rules wherever they live: the local stack (validated first) or a URL."""
    if endpoints.local:
        ObsStack(endpoints.cluster, paths).reload()
        return
    with PrometheusAPI(endpoints.prometheus_url) as client:
        client.reload()
