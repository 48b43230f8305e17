"""What a drill needs from the fabric under test, checked against what runs (``fabric check``).

A team drills *its* fabric, so pfdrill must say up front what it relies on and
which drills a gap disables, rather than fail halfway through one. The
requirements are:

- objects, ConfigMap keys and labels faults and runbooks act on (the contract
  in ``deploy/RUNTIME-CONTRACT.md`` and the design's fabric contract);
- the metrics (and the label names they are selected by) that the alert rules
  read — **derived from** ``deploy/alerts/source/rules.yml``, whose recording rules are
  also every live signal the classifier judges; each metric knows the alerts
  that read it, through recording rules too, so a gap names the drills whose
  expected alerts it silences;
- the watchers' ``/healthz`` and ``/readyz``; with ``deep``, the log markers the
  runbook greps for and SIGUSR1 (a state dump, the process keeps running).

Reading only, except ``deep``'s SIGUSR1 (which the contract says is harmless).
"""

from __future__ import annotations

import dataclasses
import enum
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from pfdrill.cluster.client import ClusterClient, Obj
from pfdrill.errors import InvalidInput
from pfdrill.fabric import certs, readiness
from pfdrill.formats import exposition, yamldoc
from pfdrill.model.cluster import PodInfo
from pfdrill.model.drill import DrillSpec

WATCHER, ADAPTER = readiness.WORKLOADS
EVERY = "*"  # needed by every drill (steady state, the fabric itself)


class Kind(enum.Enum):
    OBJECT = "object"
    CONFIG = "config key"
    LABEL = "label"
    METRIC = "metric"
    ENDPOINT = "endpoint"
    LOG = "log marker"
    SIGNAL = "signal"


class Status(enum.Enum):
    MET = "met"
    MISSING = "missing"
    DIFFERENT = "different"


@dataclasses.dataclass(frozen=True)
class Requirement:
    kind: Kind
    name: str
    want: str
    # Who needs it: alert names (drills expecting them), fault names, or EVERY.
    needed_by: frozenset[str] = frozenset({EVERY})

    def needed_for(self, spec: DrillSpec) -> bool:
        return bool(self.needed_by & {EVERY, spec.fault.name, *spec.expected_alerts})


@dataclasses.dataclass(frozen=True)
class Finding:
    requirement: Requirement
    status: Status
    observed: str = ""

    @property
    def ok(self) -> bool:
        return self.status is Status.MET

    def describe(self) -> str:
        r = self.requirement
        seen = f": {self.observed}" if self.observed else ""
        return f"{r.kind.value} {r.name} {self.status.value} (needs {r.want}){seen}"


@dataclasses.dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]

    @property
    def gaps(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.ok)

    def gaps_for(self, spec: DrillSpec) -> tuple[Finding, ...]:
        """The gaps that make ``spec`` meaningless: refuse it in preflight for these."""
        return tuple(f for f in self.gaps if f.requirement.needed_for(spec))

    def disables(self, finding: Finding, drills: Sequence[DrillSpec]) -> list[str]:
        return [d.name for d in drills if finding.requirement.needed_for(d)]

    def table(self, drills: Sequence[DrillSpec] = ()) -> str:
        rows = [("kind", "requirement", "status", "observed", "disables")]
        for f in self.findings:
            off = ", ".join(self.disables(f, drills)) if not f.ok else ""
            rows.append((f.requirement.kind.value, f.requirement.name, f.status.value,
                         f.observed[:60] if not f.ok else "", off or ("-" if not f.ok else "")))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]
        met = sum(f.ok for f in self.findings)
        lines.append(f"{met}/{len(self.findings)} met, {len(self.gaps)} gap(s)")
        return "\n".join(lines)


# --- the metrics the rules read ---------------------------------------------------------

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?")
_MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "by", "without", "on",
                       "ignoring", "group_left", "group_right", "inf", "nan"})
# Series Prometheus itself makes (up) or pfdrill serves (its baselines), not the fabric.
_NOT_FABRIC = frozenset({"up", "pfdrill_baseline"})
# Labels every scrape adds: not the fabric's to provide.
_TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod", "__name__"})


def selectors(expr: str) -> dict[str, set[str]]:
    """Metric (or recording rule) names in a PromQL expression, with the label names
    each is selected by."""
    text = _PLACEHOLDER.sub("1", expr)
    text = _GROUPING.sub("", text)
    text = _RANGE.sub("", text)
    out: dict[str, set[str]] = {}
    for m in _SELECTOR.finditer(_STRING.sub('""', text)):
        name, braces, call = m.group(1), m.group(2), m.group(3)
        if (call and not braces) or name in _KEYWORDS or name[0].isdigit():
            continue  # a function, a keyword or a number
        labels = set(_MATCHER.findall(braces or "")) - _TARGET_LABELS
        out.setdefault(name, set()).update(labels)
    # Label matchers were inside braces; strip strings first so values never look like names.
    return out


@dataclasses.dataclass(frozen=True)
class RuleMetric:
    name: str
    labels: frozenset[str]
    alerts: frozenset[str]  # the alerts that read it (through recording rules too)
    records: frozenset[str]  # the recording rules (live signals) that read it


def rule_metrics(rules_file: Path) -> dict[str, RuleMetric]:
    """Every fabric metric ``rules_file`` reads, with who reads it."""
    doc = yamldoc.load(rules_file).root or {}
    if not isinstance(doc, dict):
        raise InvalidInput("alert rules are a mapping with 'groups'", file=rules_file, line=1)
    uses: dict[str, dict[str, set[str]]] = {}
    alerts: list[str] = []
    for group in doc.get("groups") or []:
        for rule in group.get("rules") or []:
            name = str(rule.get("record") or rule.get("alert") or "")
            if rule.get("alert"):
                alerts.append(name)
            for used, labels in selectors(str(rule.get("expr", ""))).items():
                uses.setdefault(name, {}).setdefault(used, set()).update(labels)

    def raw(name: str, seen: frozenset[str] = frozenset()) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for used, labels in uses.get(name, {}).items():
            if used in uses and used not in seen:  # a recording rule: what it reads
                for m, ls in raw(used, seen | {name}).items():
                    out.setdefault(m, set()).update(ls)
            elif used not in uses:
                out.setdefault(used, set()).update(labels)
        return out

    found: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for name in uses:
        for metric, labels in raw(name).items():
            if metric in _NOT_FABRIC or metric.startswith("pfdrill:"):
                continue
            ls, als, rs = found.setdefault(metric, (set(), set(), set()))
            ls.update(labels)
            (als if name in alerts else rs).add(name)
    return {m: RuleMetric(m, frozenset(ls), frozenset(als), frozenset(rs))
            for m, (ls, als, rs) in sorted(found.items())}


# Live signals the steady state itself reads: a gap there disables every drill.
STEADY_RECORDS = frozenset({"pfdrill:bridge_guarantee_ok", "pfdrill:dfa_integrity_ok",
                            "pfdrill:enforcement_disabled"})


def requirements(rules_file: Path, *, optin_label: str) -> list[Requirement]:
    """Everything drills rely on, in the order ``fabric check`` lists it."""
    def r(kind: Kind, name: str, want: str, *needed: str) -> Requirement:
        return Requirement(kind, name, want, frozenset(needed or (EVERY,)))

    out = [
        r(Kind.LABEL, "namespace", f"opt-in label {optin_label}"),
        r(Kind.OBJECT, f"Deployment {WATCHER}", "exists, pods labelled app=sidecar-watcher"),
        r(Kind.OBJECT, f"Deployment {ADAPTER}", "exists, pods labelled app=policy-adapter"),
        r(Kind.OBJECT, f"Service {WATCHER}", "exists (traffic, pfctl, port-forward)"),
        r(Kind.OBJECT, "ConfigMap policy-config", "exists"),
        r(Kind.CONFIG, "policy-config enforcement_mode",
          "one of enforce|monitor|shadow|disabled|break_glass"),
        r(Kind.CONFIG, "policy-config adapter_failure_mode", "fail_closed|fail_open",
          "adapter_failure"),
        r(Kind.CONFIG, "policy-config high_assurance_mode", "true|false", "witness_failures"),
        r(Kind.OBJECT, "ConfigMap dfa-artifact", "keys dfa.json, dfa.json.sha256",
          "dfa_tampering"),
        r(Kind.OBJECT, "ConfigMap policy-adapter-config", "exists", "adapter_failure"),
        r(Kind.OBJECT, "Secret fabric-certs", f"key {certs.BUNDLE_KEY}",
          "certificate_corruption"),
        r(Kind.ENDPOINT, f"{WATCHER} /healthz", "200 on every pod"),
        r(Kind.ENDPOINT, f"{WATCHER} /readyz", "200 on every pod"),
    ]
    for m in rule_metrics(rules_file).values():
        needed = set(m.alerts) | ({EVERY} if m.records & STEADY_RECORDS else set())
        want = "exposed" + (f" with label(s) {', '.join(sorted(m.labels))}" if m.labels else "")
        out.append(Requirement(Kind.METRIC, m.name, want, frozenset(needed) or frozenset(
            {EVERY})))
    return out


# --- checking what runs -----------------------------------------------------------------

class Kubectl:
    """``kubectl`` for what the API client cannot do: pod logs, exec (SIGUSR1)."""

    def __init__(self, kubectl: str, kubeconfig: str, context: str) -> None:
        self._argv = [kubectl, "--kubeconfig", kubeconfig, "--context", context]

    def run(self, *args: str, timeout: float = 60) -> tuple[int, str]:
        try:
            got = subprocess.run([*self._argv, *args], capture_output=True, text=True,
                                 timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return 1, str(exc)
        return got.returncode, got.stdout + got.stderr


LOG_MARKERS = ("REJECT", "VIOLATION")  # what baseline traffic's violating share produces


def _scrape_port(pod: PodInfo) -> str:
    return pod.annotations.get("prometheus.io/port", "8080")


class Checker:
    def __init__(self, client: ClusterClient, namespace: str, pod_http: readiness.PodHttp,
                 rules_file: Path, *, optin_label: str, kubectl: Kubectl | None = None) -> None:
        self.client, self.ns, self.pods_http = client, namespace, pod_http
        self.rules_file, self.optin_label, self.kubectl = rules_file, optin_label, kubectl

    def run(self, *, deep: bool = False) -> Report:
        reqs = requirements(self.rules_file, optin_label=self.optin_label)
        pods = [p for p in self.client.list_pods(self.ns, f"app={WATCHER}") if not p.deleting]
        exposed = self._exposed(pods)
        out = [self._finding(r, pods, exposed) for r in reqs]
        if deep and self.kubectl is not None:
            out += self._deep(pods)
        return Report(tuple(out))

    def _exposed(self, pods: Sequence[PodInfo]) -> dict[str, set[str]] | None:
        """Metric names and label names the fabric's pods expose (None: none could be read)."""
        pods = [*pods, *(p for p in self.client.list_pods(self.ns, f"app={ADAPTER}")
                         if not p.deleting)]
        found: dict[str, set[str]] = {}
        read = False
        for pod in pods:
            got = self.pods_http.fetch(pod, _scrape_port(pod), "/metrics")
            if got is None or got[0] != 200:
                continue
            try:
                exposed = exposition.names(got[1], f"pod {pod.name} /metrics")
            except InvalidInput:
                continue  # not the text format: this pod's metrics cannot be read
            read = True
            for name, labels in exposed.items():
                found.setdefault(name, set()).update(labels)
        return found if read else None

    def _finding(self, r: Requirement, pods: Sequence[PodInfo],
                 exposed: Mapping[str, set[str]] | None) -> Finding:
        check = _CHECKS[r.kind]
        status, observed = check(self, r, pods, exposed)
        return Finding(r, status, observed)

    def _deep(self, pods: Sequence[PodInfo]) -> list[Finding]:
        assert self.kubectl is not None
        out = []
        code, logs = self.kubectl.run("logs", "-n", self.ns, "-l", f"app={WATCHER}",
                                      "--since=10m", "--tail=-1")
        for marker in LOG_MARKERS:
            r = Requirement(Kind.LOG, marker, "in the watchers' logs under violating traffic",
                            frozenset({EVERY}))
            out.append(Finding(r, Status.MET if code == 0 and marker in logs else
                               Status.MISSING, "" if code == 0 else logs.strip()[:120]))
        before = {p.name: p.restarts for p in pods}
        code, said = self.kubectl.run("exec", "-n", self.ns, f"deployment/{WATCHER}", "--",
                                      "pkill", "-USR1", WATCHER)
        _, logs = self.kubectl.run("logs", "-n", self.ns, "-l", f"app={WATCHER}",
                                   "--since=30s", "--tail=-1")
        after = {p.name: p.restarts for p in self.client.list_pods(self.ns, f"app={WATCHER}")}
        kept = all(after.get(n) == c for n, c in before.items())
        dumped = "STATE_DUMP" in logs
        r = Requirement(Kind.SIGNAL, "SIGUSR1", "a state dump (STATE_DUMP), process keeps running",
                        frozenset({EVERY}))
        status = Status.MET if code == 0 and dumped and kept else (
            Status.MISSING if code != 0 else Status.DIFFERENT)
        seen = "" if status is Status.MET else (said.strip()[:120] if code else
                                                f"dump logged: {dumped}, kept running: {kept}")
        out.append(Finding(r, status, seen))
        return out


Check = Callable[[Checker, Requirement, Sequence[PodInfo], Mapping[str, set[str]] | None],
                 tuple[Status, str]]


def _check_label(c: Checker, r: Requirement, pods: Sequence[PodInfo],
                 exposed: Mapping[str, set[str]] | None) -> tuple[Status, str]:
    key, _, value = c.optin_label.partition("=")
    have = c.client.namespace_labels(c.ns)
    if key not in have:
        return Status.MISSING, "no such label"
    return (Status.MET, "") if have[key] == (value or "true") else (Status.DIFFERENT, have[key])


def _object(c: Checker, kind: str, name: str) -> Obj | None:
    api = "apps/v1" if kind == "Deployment" else "v1"
    return c.client.get_object(api, kind, c.ns, name)


def _check_object(c: Checker, r: Requirement, pods: Sequence[PodInfo],
                  exposed: Mapping[str, set[str]] | None) -> tuple[Status, str]:
    kind, name = r.name.split(" ", 1)
    obj = _object(c, kind, name)
    if obj is None:
        return Status.MISSING, "not found"
    if kind == "Deployment":
        live = c.client.list_pods(c.ns, f"app={name}")
        replicas = ((obj.get("spec") or {}).get("replicas"))
        if not live and replicas:
            return Status.DIFFERENT, f"no pod labelled app={name}"
    keys = set(obj.get("data") or {})
    wanted = {"ConfigMap dfa-artifact": {"dfa.json", "dfa.json.sha256"},
              "Secret fabric-certs": {certs.BUNDLE_KEY}}.get(r.name, set())
    if wanted - keys:
        return Status.DIFFERENT, f"lacks key(s) {', '.join(sorted(wanted - keys))}"
    return Status.MET, ""


_VALUES = {"enforcement_mode": {"enforce", "monitor", "shadow", "disabled", "break_glass"},
           "adapter_failure_mode": {"fail_closed", "fail_open"},
           "high_assurance_mode": {"true", "false"}}


def _check_config(c: Checker, r: Requirement, pods: Sequence[PodInfo],
                  exposed: Mapping[str, set[str]] | None) -> tuple[Status, str]:
    cm, key = r.name.split(" ", 1)
    obj = _object(c, "ConfigMap", cm)
    data = (obj or {}).get("data") or {}
    if key not in data:
        return Status.MISSING, f"{cm} has no key {key}" if obj else f"no ConfigMap {cm}"
    allowed = _VALUES.get(key)
    return (Status.MET, "") if allowed is None or data[key] in allowed else (
        Status.DIFFERENT, f"{key}={data[key]!r}")


def _check_metric(c: Checker, r: Requirement, pods: Sequence[PodInfo],
                  exposed: Mapping[str, set[str]] | None) -> tuple[Status, str]:
    if exposed is None:
        return Status.MISSING, "no fabric pod's /metrics could be read"
    if r.name not in exposed:
        return Status.MISSING, "not exposed by any fabric pod"
    want = set(re.findall(r"label\(s\) (.*)", r.want)[0].split(", ")) if "label(s)" in r.want \
        else set()
    lacking = want - exposed[r.name]
    if lacking and exposed[r.name]:  # a labelled metric without samples yet cannot say
        return Status.DIFFERENT, f"lacks label(s) {', '.join(sorted(lacking))}"
    return Status.MET, ""


def _check_endpoint(c: Checker, r: Requirement, pods: Sequence[PodInfo],
                    exposed: Mapping[str, set[str]] | None) -> tuple[Status, str]:
    path = r.name.split(" ", 1)[1]
    if not pods:
        return Status.MISSING, f"no {WATCHER} pod"
    bad = []
    for pod in pods:
        got = c.pods_http.fetch(pod, _scrape_port(pod), path)
        if got is None or got[0] != 200:
            bad.append(f"{pod.name}: {'unreachable' if got is None else got[0]}")
    return (Status.MET, "") if not bad else (Status.DIFFERENT, "; ".join(bad))


_CHECKS: dict[Kind, Check] = {
    Kind.LABEL: _check_label, Kind.OBJECT: _check_object, Kind.CONFIG: _check_config,
    Kind.METRIC: _check_metric, Kind.ENDPOINT: _check_endpoint,
}


def refusal(gaps: Iterable[Finding]) -> str:
    """The one-line preflight refusal for a drill's gaps."""
    return "the fabric lacks what this drill needs: " + "; ".join(g.describe() for g in gaps)


def checker(client: ClusterClient, namespace: str, pod_http: readiness.PodHttp, *,
            optin_label: str, kubectl: Kubectl | None = None,
            rules_file: Path | None = None) -> Checker:
    """A checker against the alert rules pfdrill ships (``deploy/alerts/source/rules.yml``)."""
    from pfdrill.obs import rules

    return Checker(client, namespace, pod_http, rules_file or rules.alerts_dir() / rules.RULES_FILE,
                   optin_label=optin_label, kubectl=kubectl)
