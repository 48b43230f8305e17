"""The real drill environment: the engine's ports wired to pfdrill's components.

:class:`StackEnvironmentFactory` builds a :class:`DrillEnvironment` for a
running stack (``pfdrill cluster up``): the cluster through
:class:`~pfdrill.cluster.client.KubeClient`, detection through Prometheus and
the notification sink, the runbook through the executor's sandbox, evidence
from pfctl's incident store and the sandbox's files. Adapters live in
:mod:`pfdrill.drill.adapters`, one module per thing adapted; :func:`wire`
assembles them, one small function per part. A component that is not
available yet is an :class:`~pfdrill.errors.EnvironmentProblem` naming it —
before anything runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from pfdrill.chaos.fault import ChaosCatalog, catalog_for
from pfdrill.cluster import kubeconfig as kubeconfig_mod
from pfdrill.cluster import secretdata
from pfdrill.cluster.client import KubeClient
from pfdrill.cluster.logs import KubectlLogs
from pfdrill.cluster.provider import ProviderKind
from pfdrill.drill import hold
from pfdrill.drill.adapters import notifications, prometheus, runbook, steady
from pfdrill.drill.clock import SystemClock
from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.ports import FaultCatalog, RunbookRunner, StateKeeper
from pfdrill.drill.snapshot import ClusterSnapshotter, SnapshotPlan, SnapshotStore
from pfdrill.errors import EnvironmentProblem, InvalidInput
from pfdrill.fabric import readiness
from pfdrill.fabric.authority import Authority
from pfdrill.faults.keeper import LeftFaults
from pfdrill.load import plan, runner
from pfdrill.model.fabric import FABRIC
from pfdrill.model.sla import TimingProfile
from pfdrill.obs import profile as obs_profile
from pfdrill.obs import rules as obs_rules
from pfdrill.obs import stack as obs_stack
from pfdrill.obs.api import PrometheusAPI
from pfdrill.obs.rules import RuleSet
from pfdrill.runbook.inputs import Environment
from pfdrill.runbook.runner import Runner
from pfdrill.settings.config import Config, load_config
from pfdrill.settings.paths import Paths, schedule_file
from pfdrill.sink.client import SinkClient
from pfdrill.stack import contract
from pfdrill.stack.lifecycle import Stack, StackInfo


class RunbookChecker:
    """Checks that a runbook exists and has the named sections; runs nothing."""

    def validate(self, runbook: str, sections: Sequence[str]) -> None:
        from pfdrill.runbook import runner

        for section in sections:  # one by one, as the drill runs them
            runner.load(runbook, [section])
        if not sections:
            runner.load(runbook)

    def run_section(self, runbook: str, section: str, env: Any) -> Any:
        raise EnvironmentProblem("RunbookChecker only validates; use the drill environment")


class AnyFault:
    """A catalog that accepts every fault: for checking the rest of a drill file first."""

    def names(self) -> Sequence[str]:
        return ()

    def create(self, name: str) -> Any:
        return self

    def validate(self, params: Any) -> None:
        return None


def fault_catalog() -> FaultCatalog:
    """The fault catalog without a cluster: validates fault names and parameters."""
    from pfdrill.faults.catalog import CATALOG

    return cast(FaultCatalog, CATALOG)


def static_checkers() -> tuple[FaultCatalog, RunbookRunner]:
    """What ``pfdrill drill validate`` checks a drill file against, without a cluster."""
    return fault_catalog(), RunbookChecker()


@dataclasses.dataclass(frozen=True)
class StackEnvironmentFactory:
    provider: str = "kwok"
    name: str = "pfdrill"
    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False  # existing: in a pod, as its ServiceAccount; nothing deployed
    config: Config = dataclasses.field(default_factory=load_config)
    paths: Paths = dataclasses.field(default_factory=Paths.from_env)
    progress: Callable[[str], None] = dataclasses.field(default=lambda _m: None)
    lease_wait_s: float = 0.0

    @classmethod
    def from_options(cls, *, provider: str = "kwok", name: str = "pfdrill",
                     kubeconfig: Path | None = None, context: str | None = None,
                     config: Path | None = None, in_cluster: bool = False,
                     progress: Callable[[str], None] | None = None,
                     deploy_fabric: bool | None = None,
                     lease_wait_s: float = 0.0) -> StackEnvironmentFactory:
        if in_cluster and provider != "existing":
            raise InvalidInput("--in-cluster goes with --provider existing")
        cfg = load_config(config)
        if deploy_fabric is not None:
            cfg = dataclasses.replace(cfg, deploy_fabric=deploy_fabric)
        return cls(provider=provider, name=name, kubeconfig=kubeconfig, context=context,
                   in_cluster=in_cluster, config=cfg, progress=progress or (lambda _m: None),
                   lease_wait_s=lease_wait_s)

    def build(self, profile: TimingProfile) -> DrillEnvironment:
        """Bring the whole environment up (idempotent: fast when it runs; nothing changes
        while another drill holds the lease), then wire it."""
        stack = self.stack()
        stack.up_all(profile.value, progress=self.progress, lease_wait_s=self.lease_wait_s)
        return dataclasses.replace(wire(stack, profile), lease_wait_s=self.lease_wait_s,
                                   followed_context=self._followed_context())

    def _followed_context(self) -> Callable[[], str | None]:
        """The user's kubeconfig's current-context, read when asked, if no --context pins one."""
        path = self.kubeconfig
        if path is None or self.context is not None or self.in_cluster:
            return lambda: None
        return lambda: kubeconfig_mod.load(path).current

    def stack(self) -> Stack:
        return Stack(kind=ProviderKind.parse(self.provider), name=self.name, paths=self.paths,
                     config=self.config,
                     kubeconfig=str(self.kubeconfig) if self.kubeconfig else None,
                     context=self.context, in_cluster=self.in_cluster)

    def runbook_environment(self) -> Environment:
        """What runbook commands see of the stack :meth:`build` brought up (the gate's
        whole-runbook checks run in it, as a drill's sections do)."""
        stack = self.stack()
        ep = obs_stack.resolve(stack.config, stack.name, stack.paths)
        return _runbook_environment(stack.status(), stack, ep)


@dataclasses.dataclass(frozen=True)
class _Observability:
    prom: PrometheusAPI
    sink: SinkClient
    endpoints: obs_stack.Endpoints
    ruleset: RuleSet
    profile: obs_profile.AlertTiming

    @property
    def rules_dir(self) -> Path | None:
        return Path(self.endpoints.rules_dir) if self.endpoints.rules_dir else None


def _observability(stack: Stack, profile: TimingProfile) -> _Observability:
    ep = obs_stack.resolve(stack.config, stack.name, stack.paths)
    if not ep.sink_url:
        raise EnvironmentProblem("no notification sink is running (pfdrill obs up)")
    if ep.local and ep.profile != profile.value:
        raise EnvironmentProblem(f"the observability stack runs the {ep.profile!r} timing "
                                 f"profile; bring it up with {profile.value!r} for this drill")
    oprof = obs_profile.get(profile.value)
    source = obs_rules.alerts_dir() / obs_rules.RULES_FILE
    ruleset = obs_rules.parse(obs_rules.render(source, oprof), source)
    return _Observability(PrometheusAPI(ep.prometheus_url), SinkClient(ep.sink_url), ep,
                          ruleset, oprof)


def _runbook_environment(info: StackInfo, stack: Stack, ep: obs_stack.Endpoints) -> Environment:
    rules_dir = Path(ep.rules_dir) if ep.rules_dir else None
    return Environment(kubeconfig=info.kubeconfig, context=info.context,
                       namespace=stack.config.namespace, sink_url=ep.sink_url or "",
                       prometheus_url=ep.prometheus_url,
                       alertmanager_url=ep.alertmanager_url or "",
                       rules_file=str(rules_dir / obs_rules.RENDERED_FILE) if rules_dir else "",
                       rules_configmap=ep.rules_configmap or "",
                       kubectl=shutil.which("kubectl") or "", runtime_dir=info.runtime_dir,
                       schedule_file=str(schedule_file() or ""),
                       watcher_url=_watcher_url(info, stack))


def _watcher_url(info: StackInfo, stack: Stack) -> str:
    """Where pfctl reaches the watcher when no kwok runtime tells it (in a pod: service links)."""
    if info.runtime_dir:
        return ""
    address = info.service_address(stack.config.namespace, FABRIC.watcher)
    return f"http://{address}" if address else ""


def _keepers(stack: Stack, obs: _Observability, faults: ChaosCatalog) -> tuple[StateKeeper, ...]:
    keepers: tuple[StateKeeper, ...] = (notifications.SinkBaselineKeeper(obs.sink),)
    ep = obs.endpoints
    rules = prometheus.rules_keeper(ep, faults.ctx.cluster, stack.config.namespace,
                                    lambda: obs_stack.reload(ep, stack.paths))
    if rules is not None:
        keepers = (rules, *keepers)
    # first: a killed drill's fault (and its worker) goes before anything else is put back
    return (LeftFaults(faults.ctx), *keepers)


BASELINE_RATE = 20.0  # req/s of steady traffic while drills run (96% compliant)


def _baseline_traffic(info: StackInfo, stack: Stack) -> runner.LoadRun | None:
    """Steady baseline traffic against the watcher Service for as long as the environment lives.

    Baselines and steady-state probes are rates: without traffic there is nothing to
    measure. On kwok the Service's local proxy address comes from the runtime; on other
    clusters set ``watcher_url`` traffic up yourself (the drill then measures what it finds).
    """
    address = info.service_address(stack.config.namespace, FABRIC.watcher)
    if not address:
        return None
    return runner.start(plan.LoadPlan.baseline(f"http://{address}", rate=BASELINE_RATE),
                        Authority.for_context(info.context, stack.paths))


def wire(stack: Stack, profile: TimingProfile) -> DrillEnvironment:
    """The drill environment of a running ``stack``: every port on its real adapter."""
    info = stack.status()
    if info.cluster is None or not info.cluster.running:
        raise EnvironmentProblem(f"cluster {stack.name!r} is not running (pfdrill cluster up)")
    client = KubeClient(info.kubeconfig, info.context)
    obs = _observability(stack, profile)
    ns = stack.config.namespace
    # The static catalog validated the drill file; drills run the faults as chaostoolkit
    # experiments against this stack, each leaving its journal as evidence.
    chaos = catalog_for(
        kubeconfig=info.kubeconfig, context=info.context, namespace=ns,
        state_dir=stack.paths.state, journal_dir=stack.paths.state / "journals",
        runtime_dir=info.runtime_dir or None, prometheus_url=obs.endpoints.prometheus_url)
    faults = cast(FaultCatalog, chaos)
    rb_env = _runbook_environment(info, stack, obs.endpoints)
    sandbox = runbook.SandboxRunbook(Runner(rb_env, client, stack.config))
    traffic = _baseline_traffic(info, stack)
    if traffic is not None:
        # A baseline measured before the traffic fills a rate window is a fraction of the real
        # one (measured: 0 rejects/s, so a 11x fault read 16x): the first preflight waits.
        hold.signals_disturbed(info.context, SystemClock().monotonic())
    pods = readiness.pod_http(client, info.runtime_dir)
    fabric = contract.checker(client, ns, pods, optin_label=stack.config.optin_label)

    def close() -> None:
        sandbox.close()
        obs.prom.close()
        # the fault context's keep-alive connections to the watcher and the pods it scrapes
        # (left open, they were the ResourceWarnings at the end of `make test`)
        chaos.ctx.close()
        if traffic is not None:
            # Nobody reads the baseline traffic's figures: one stopped before locust wrote
            # its first ones (an environment closed right away) is no error.
            with contextlib.suppress(EnvironmentProblem):
                traffic.stop()
            traffic.cleanup()

    return DrillEnvironment(
        cluster=client, config=stack.config, clock=SystemClock(),
        steady_state=steady.FabricSteadyState(client, ns, obs.prom, pods),
        snapshotter=ClusterSnapshotter(client, SnapshotPlan(ns), pod_http=pods),
        snapshots=SnapshotStore(stack.paths.state / "snapshots"),
        faults=faults, detector=prometheus.PromDetector(obs.prom, obs.sink, obs.ruleset,
                                                        obs.profile),
        classifier=prometheus.PromClassifier(obs.prom, obs.sink), runbook=sandbox,
        notifications=notifications.SinkNotifications(obs.sink),
        logs=KubectlLogs(rb_env.kubectl_path(), kubeconfig=info.kubeconfig,
                         context=info.context),
        metrics=prometheus.PromMetrics(obs.prom), incidents=runbook.SandboxIncidents(sandbox),
        artifacts=runbook.SandboxArtifacts(sandbox), rules=prometheus.PromRules(obs.prom),
        cluster_name=stack.name, provider=stack.kind.value, profile=profile,
        detection=obs.endpoints.where(),
        poll_interval_s=1.0 if profile is TimingProfile.DRILL else 5.0,
        signal_window_s=obs.profile.rate_window_s, secrets=(*rb_env.webhooks().values(), *secretdata.values(client, ns)),
        runbook_env=rb_env.webhooks(), keepers=_keepers(stack, obs, chaos), close=close,
        contract_gaps=lambda spec: [g.describe() for g in fabric.run().gaps_for(spec)])
