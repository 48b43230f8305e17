"""Adapters from the engine's ports to pfdrill's real components (built by :mod:`.wiring`).

- detection: :func:`pfdrill.detect.timing.wait` over Prometheus and the sink;
- classification: the recording rules ``pfdrill:<indicator>`` measured from
  Prometheus, judged by :func:`pfdrill.classify.classifier.classify`;
- steady state: :class:`FabricSteadyState` (ConfigMap, replicas, bridge
  guarantees, no SEV-1/2 alert firing);
- runbook: one :class:`pfdrill.runbook.executor.Session` (one sandbox) per
  drill, its incident store and files as evidence;
- state keepers: the live alert rules (``pfctl monitoring`` edits them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pfdrill.drill.environment import DrillEnvironment
from pfdrill.drill.ports import AlertSighting, CommandRun, FaultCatalog, SectionRun
from pfdrill.drill.snapshot import ClusterSnapshotter, SnapshotPlan, SnapshotStore
from pfdrill.errors import EnvironmentProblem, ObjectNotFound
from pfdrill.model.evidence import (
    Artifact,
    Classification,
    IncidentRecord,
    Notification,
    ProbeSample,
    Signal,
)
from pfdrill.model.sla import TimingProfile

if TYPE_CHECKING:
    from pfdrill.cluster.client import ClusterClient
    from pfdrill.drill.wiring import StackEnvironmentFactory
    from pfdrill.obs.api import PrometheusAPI
    from pfdrill.obs.profile import TimingProfile as ObsProfile
    from pfdrill.obs.rules import RuleSet
    from pfdrill.runbook.runner import Runner
    from pfdrill.sink.client import SinkClient


def _wall(unix: float | None) -> dt.datetime | None:
    return None if unix is None else dt.datetime.fromtimestamp(unix, dt.UTC)


class PromDetector:
    def __init__(self, prom: PrometheusAPI, sink: SinkClient, rules: RuleSet,
                 profile: ObsProfile) -> None:
        self._prom, self._sink, self._rules, self._profile = prom, sink, rules, profile

    def wait_for_notification(self, alerts: Sequence[str], since: dt.datetime,
                              timeout_s: float) -> Sequence[AlertSighting]:
        from pfdrill.detect import timing

        found = timing.wait(since.timestamp(), prometheus=self._prom, sink=self._sink,
                            rules=self._rules, profile=self._profile, alerts=alerts,
                            timeout_s=timeout_s)
        return [AlertSighting(alert=a.alert, firing=_wall(a.firing_at),
                              notified=_wall(a.notified_at), severity_label=a.severity.value,
                              receiver="sink", bound_s=a.bound.notification_s)
                for a in found.alerts]


class PromClassifier:
    """Live signals are the rules' ``pfdrill:*`` records; the baseline is measured in preflight."""

    def __init__(self, prom: PrometheusAPI, sink: SinkClient) -> None:
        self._prom, self._sink = prom, sink

    def _signals(self) -> Any:
        from pfdrill.model.signals import Signals

        values = {name: self._prom.value(f"pfdrill:{name}") for name in Signals.names()}
        return Signals.from_dict({**values, "measured_at": dt.datetime.now(dt.UTC).timestamp()})

    def withdraw_baseline(self) -> None:
        published = self._sink.baselines()
        if published:
            self._sink.set_baselines({k: None for k in published})

    def baseline(self) -> Sequence[Signal]:
        from pfdrill.model.signals import Baseline

        base = Baseline.from_signals(self._signals())
        self._sink.publish_baseline(base)  # the relative alert rules read it (pfdrill_baseline)
        return [Signal(k, v) for k, v in base.gauges().items()]

    def classify(self, baseline: Sequence[Signal]) -> Classification:
        from pfdrill.classify import classifier, thresholds
        from pfdrill.model.signals import Baseline

        base = Baseline.from_dict({s.name: s.value for s in baseline})
        got = classifier.classify(self._signals(), base, thresholds.load())
        return Classification(severity=got.severity,
                              reasons=tuple(r.describe() for r in got.reasons))


class FabricSteadyState:
    """The fabric serves, enforces, and nothing SEV-1/2 is firing."""

    def __init__(self, cluster: ClusterClient, namespace: str, prom: PrometheusAPI) -> None:
        self._c, self._ns, self._prom = cluster, namespace, prom

    def check(self) -> Sequence[ProbeSample]:
        out = []
        try:
            mode = self._c.get_configmap(self._ns, "policy-config").get("enforcement_mode", "")
        except ObjectNotFound:
            mode = "(no policy-config)"
        out.append(ProbeSample("enforcement_mode", mode, "enforce", mode == "enforce"))
        for name in ("sidecar-watcher", "policy-adapter"):
            try:
                d = self._c.get_deployment(self._ns, name)
                out.append(ProbeSample(f"{name} ready", f"{d.ready}/{d.replicas}",
                                       "all desired ready, >= 1", d.replicas >= 1 and d.settled))
            except ObjectNotFound:
                out.append(ProbeSample(f"{name} ready", "missing", "deployed", False))
        for record in ("pfdrill:bridge_guarantee_ok", "pfdrill:dfa_integrity_ok"):
            v = self._prom.value(record)
            out.append(ProbeSample(record, "no data" if v is None else f"{v:g}", "1", v == 1.0))
        firing = sorted({a.name for a in self._prom.alerts() if a.state == "firing"
                         and a.labels.get("severity") in ("SEV-1", "SEV-2")})
        out.append(ProbeSample("SEV-1/2 alerts firing", ", ".join(firing) or "none", "none",
                               not firing))
        return out


class SinkNotifications:
    def __init__(self, sink: SinkClient) -> None:
        self._sink = sink

    def notifications(self, since: dt.datetime) -> Sequence[Notification]:
        return [Notification(channel=r.channel, received_wall=r.received_iso, text=r.body,
                             alerts=tuple(a.alertname for a in r.alerts()))
                for r in self._sink.records(since=since.timestamp())]


class PromMetrics:
    def __init__(self, prom: PrometheusAPI) -> None:
        self._prom = prom

    def instant(self, query: str) -> float | None:
        return self._prom.value(query)

    def series(self, query: str, start: dt.datetime, end: dt.datetime,
               step_s: float) -> Sequence[tuple[dt.datetime, float]]:
        # a subquery evaluated at `end` gives the query's value every `step` over the window
        window = max(1, int((end - start).total_seconds()))
        step = max(1, int(step_s))
        out: list[tuple[dt.datetime, float]] = []
        for points in self._subquery(query, window, step, end):
            out.extend((_wall(t) or end, v) for t, v in points)
        return sorted(out)

    def _subquery(self, query: str, window: int, step: int,
                  end: dt.datetime) -> list[tuple[tuple[float, float], ...]]:
        data = self._prom._data("/api/v1/query", {"query": f"({query})[{window}s:{step}s]",
                                                  "time": repr(end.timestamp())})
        return [tuple((float(t), float(v)) for t, v in r["values"]) for r in data["result"]]


class PromRules:
    def __init__(self, prom: PrometheusAPI) -> None:
        self._prom = prom

    def loaded_rules(self) -> frozenset[str]:
        return frozenset(self._prom.rule_names())


class LiveRulesKeeper:
    """The live alert rule files Prometheus loads; restored (and reloaded) after a drill."""

    name = "prometheus-rules"

    def __init__(self, rules_dir: Path, reload: Any) -> None:
        self._dir, self._reload = rules_dir, reload

    def save(self) -> str:
        return json.dumps({p.name: p.read_text(encoding="utf-8")
                           for p in sorted(self._dir.glob("*.yml"))})

    def restore(self, saved: str) -> Sequence[str]:
        want: dict[str, str] = json.loads(saved)
        have = {p.name: p.read_text(encoding="utf-8") for p in self._dir.glob("*.yml")}
        if want == have:
            return []
        for name in set(have) - set(want):
            (self._dir / name).unlink()
        for name, text in want.items():
            (self._dir / name).write_text(text, encoding="utf-8")
        self._reload()
        return ["alert rules restored and Prometheus reloaded"]


class SinkBaselineKeeper:
    """The baselines published on the sink (the relative alert rules read them)."""

    name = "sink-baselines"

    def __init__(self, sink: SinkClient) -> None:
        self._sink = sink

    def save(self) -> str:
        return json.dumps(self._sink.baselines(), sort_keys=True)

    def restore(self, saved: str) -> Sequence[str]:
        want: dict[str, float] = json.loads(saved)
        have = self._sink.baselines()
        if want == have:
            return []
        # Keys published during the drill are withdrawn (None), the rest put back.
        self._sink.set_baselines({**{k: None for k in have}, **want})
        return ["sink baselines restored" if want else "drill baseline withdrawn from the sink"]


_MAGIC = {b"%PDF": "pdf", b"BEGIN:VCALENDAR": "ics", b"\x1f\x8b": "tar.gz"}


class SandboxRunbook:
    """The runbook executor's drill front door: one sandbox per runbook for the whole drill."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._path: str | None = None

    def validate(self, runbook: str, sections: Sequence[str]) -> None:
        self._runner.validate(runbook, sections)

    def run_section(self, runbook: str, section: str, env: Mapping[str, str]) -> SectionRun:
        self._path = runbook
        run = self._runner.run_section(runbook, section, env)
        cmds = tuple(CommandRun(command=r.command.text, outcome=r.outcome,
                                exit_code=r.exit_status,
                                started=dt.datetime.fromisoformat(r.started_wall),
                                duration_s=r.duration_s, output=r.to_evidence().output,
                                reason=r.reason, line=r.command.line) for r in run.results)
        sections = run.section_evidence()
        reason = "; ".join(f"{e.section}: {e.reason}" for e in sections if not e.ok)
        return SectionRun(section=section, ok=run.ok, commands=cmds, reason=reason)

    @property
    def root(self) -> Path | None:
        return self._runner.sandbox(self._path) if self._path else None

    def close(self) -> None:
        self._runner.close()

    # evidence ---------------------------------------------------------------------------
    def incident(self, incident_id: str) -> IncidentRecord | None:
        root = self.root
        if root is None:
            return None
        db = root / ".pfdrill" / "pfctl-state" / "pfctl.db"
        if not db.is_file():
            return None
        # pfctl's store (pfdrill.pfctl.store) sits in a higher layer; read its table directly
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT id, severity, status, description, resolution, root_cause,"
                               " created_at, resolved_at FROM incidents WHERE id = ?",
                               (incident_id,)).fetchone()
            pm = conn.execute("SELECT scheduled_for, document FROM postmortems WHERE "
                              "incident_id = ?", (incident_id,)).fetchone()
        if row is None:
            return None
        return IncidentRecord(incident_id=row[0], severity=row[1], status=row[2],
                              description=row[3], resolution=row[4], root_cause=row[5],
                              created_wall=row[6], resolved_wall=row[7],
                              postmortem_wall=pm[0] if pm else None,
                              postmortem_document=pm[1] if pm else None)

    def artifacts(self) -> Sequence[Artifact]:
        root = self.root
        if root is None:
            return []
        out = []
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root)
            if not p.is_file() or rel.parts[0] in (".git", ".pfdrill"):
                continue
            data = p.read_bytes()
            kind = next((k for m, k in _MAGIC.items() if data.startswith(m)),
                        p.suffix.lstrip(".") or "file")
            out.append(Artifact(name=str(rel), path=str(p),
                                sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                                kind=kind))
        return out

    def read_text(self, artifact: Artifact) -> str:
        return Path(artifact.path).read_text(encoding="utf-8", errors="replace")


class _Incidents:
    def __init__(self, runbook: SandboxRunbook) -> None:
        self._rb = runbook

    def incident(self, incident_id: str) -> IncidentRecord | None:
        return self._rb.incident(incident_id)


class _Artifacts:
    def __init__(self, runbook: SandboxRunbook) -> None:
        self._rb = runbook

    def artifacts(self) -> Sequence[Artifact]:
        return self._rb.artifacts()

    def read_text(self, artifact: Artifact) -> str:
        return self._rb.read_text(artifact)


def build(factory: StackEnvironmentFactory, profile: TimingProfile) -> DrillEnvironment:
    import shutil

    from pfdrill.cluster.client import KubeClient
    from pfdrill.cluster.logs import KubectlLogs
    from pfdrill.cluster.provider import ProviderKind
    from pfdrill.obs import profile as obs_profile
    from pfdrill.obs import rules as obs_rules
    from pfdrill.obs import stack as obs_stack
    from pfdrill.obs.api import PrometheusAPI
    from pfdrill.runbook.environment import Environment
    from pfdrill.sink.client import SinkClient
    from pfdrill.stack.environment import Stack

    stack = Stack(kind=ProviderKind.parse(factory.provider), name=factory.name,
                  paths=factory.paths, config=factory.config,
                  kubeconfig=str(factory.kubeconfig) if factory.kubeconfig else None,
                  context=factory.context)
    info = stack.status()
    if info.cluster is None or not info.cluster.running:
        raise EnvironmentProblem(f"cluster {factory.name!r} is not running (pfdrill cluster up)")
    client = KubeClient(info.kubeconfig, info.context)
    ep = obs_stack.resolve(factory.config, factory.name, factory.paths)
    if not ep.sink_url:
        raise EnvironmentProblem("no notification sink is running (pfdrill obs up)")
    if ep.local and ep.profile != profile.value:
        raise EnvironmentProblem(f"the observability stack runs the {ep.profile!r} timing "
                                 f"profile; bring it up with {profile.value!r} for this drill")
    prom = PrometheusAPI(ep.prometheus_url)
    sink = SinkClient(ep.sink_url)
    from pfdrill.chaos.fault import catalog_for

    # The static catalog validated the drill file; drills run the faults as chaostoolkit
    # experiments against this stack, each leaving its journal as evidence.
    live_catalog: FaultCatalog = cast(FaultCatalog, catalog_for(
        kubeconfig=info.kubeconfig, context=info.context, namespace=factory.config.namespace,
        state_dir=factory.paths.state, journal_dir=factory.paths.state / "journals",
        runtime_dir=info.runtime_dir or None, prometheus_url=ep.prometheus_url))
    oprof = obs_profile.get(profile.value)
    source = obs_rules.alerts_dir() / obs_rules.RULES_FILE
    ruleset = obs_rules.parse(obs_rules.render(source, oprof), source)
    rules_dir = Path(ep.rules_dir) if ep.rules_dir else None
    kubectl = shutil.which("kubectl") or ""
    rb_env = Environment(kubeconfig=info.kubeconfig, context=info.context,
                         namespace=factory.config.namespace, sink_url=ep.sink_url,
                         prometheus_url=ep.prometheus_url,
                         alertmanager_url=ep.alertmanager_url or "",
                         rules_file=str(rules_dir / obs_rules.RENDERED_FILE) if rules_dir else "",
                         kubectl=kubectl, runtime_dir=info.runtime_dir)
    from pfdrill.runbook.runner import Runner

    runbook = SandboxRunbook(Runner(rb_env, client, factory.config))
    keepers: tuple[LiveRulesKeeper | SinkBaselineKeeper, ...] = (SinkBaselineKeeper(sink),)
    if rules_dir is not None:
        keepers = (LiveRulesKeeper(rules_dir, lambda: obs_stack.reload(ep, factory.paths)),
                   *keepers)

    traffic = _baseline_traffic(info, factory)

    def close() -> None:
        runbook.close()
        prom.close()
        if traffic is not None:
            traffic.stop()
            traffic.cleanup()

    return DrillEnvironment(
        cluster=client, config=factory.config, clock=_clock(),
        steady_state=FabricSteadyState(client, factory.config.namespace, prom),
        snapshotter=ClusterSnapshotter(client, SnapshotPlan(factory.config.namespace)),
        snapshots=SnapshotStore(factory.paths.state / "snapshots"),
        faults=live_catalog, detector=PromDetector(prom, sink, ruleset, oprof),
        classifier=PromClassifier(prom, sink), runbook=runbook,
        notifications=SinkNotifications(sink), logs=KubectlLogs(
            rb_env.kubectl_path(), kubeconfig=info.kubeconfig, context=info.context),
        metrics=PromMetrics(prom), incidents=_Incidents(runbook), artifacts=_Artifacts(runbook),
        rules=PromRules(prom), cluster_name=factory.name, provider=factory.provider,
        profile=profile, poll_interval_s=1.0 if profile is TimingProfile.DRILL else 5.0,
        signal_window_s=oprof.rate_window_s,
        secrets=tuple(rb_env.webhooks().values()), runbook_env=rb_env.webhooks(),
        keepers=keepers, close=close)


BASELINE_RATE = 20.0  # req/s of steady traffic while drills run (96% compliant)


def _baseline_traffic(info: Any, factory: StackEnvironmentFactory) -> Any:
    """Steady baseline traffic against the watcher Service for as long as the environment lives.

    Baselines and steady-state probes are rates: without traffic there is nothing to
    measure. On kwok the Service's local proxy address comes from the runtime; on other
    clusters set ``watcher_url`` traffic up yourself (the drill then measures what it finds).
    """
    from pfdrill.fabric.authority import Authority
    from pfdrill.load import plan, runner

    address = info.service_address(factory.config.namespace, "sidecar-watcher")
    if not address:
        return None
    return runner.start(plan.LoadPlan.baseline(f"http://{address}", rate=BASELINE_RATE),
                        Authority.for_context(info.context, factory.paths))


def _clock() -> Any:
    from pfdrill.drill.clock import SystemClock

    return SystemClock()

