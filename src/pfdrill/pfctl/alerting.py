"""``pfctl monitoring ...``: edit the live alert rules and reload Prometheus.

The live rules are a file Prometheus loads (``rules_file``), or, for a Prometheus in
the cluster, a key of the ConfigMap its rules volume projects (``rules_configmap``).

Edits are made on the text, so the comments and layout of the rules file
(rendered from ``deploy/alerts/source/rules.yml``) survive. Every edit is checked
with ``promtool check rules`` before it replaces the live file, Prometheus
is reloaded, and an added alert must then appear in Prometheus' rule list.

Signals are the rules file's recording rules ``pfdrill:<signal>``; the names
the runbook uses that are not signals themselves are aliases:

- ``cert_verification_rate`` (percent verified) is ``cert_failure_ratio`` read
  the other way round: a threshold of 99.5 means a failure ratio of 0.005;
- ``policy_enforcement_failure``: no watcher enforcing (disabled, relaxed or
  scaled to zero).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput, ServiceUnavailable
from pfdrill.formats import duration, yamldoc
from pfdrill.obs import promtool
from pfdrill.obs.rules import RENDERED_FILE
from pfdrill.pfctl.context import Context

GROUP = "pfctl-managed"
_NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_COMPARISON = re.compile(rf"(>=|<=|==|!=|>|<)\s*({_NUMBER})")


@dataclasses.dataclass(frozen=True)
class Alias:
    signal: str  # the recording rule pfdrill:<signal>, or '' with an explicit expression
    expr: str  # PromQL for the signal's value
    convert: Callable[[float], float] = float
    op: str = ">"  # the comparison that means "bad"


ALIASES: dict[str, Alias] = {
    "cert_verification_rate": Alias("cert_failure_ratio", "pfdrill:cert_failure_ratio",
                                    lambda t: round(1 - (t / 100 if t > 1 else t), 6), ">"),
    "policy_enforcement_failure": Alias(
        "", '1 - (max(enforcement_mode{mode="enforce"}) or vector(0))'),
}


@dataclasses.dataclass(frozen=True)
class RulesSource:
    """Where the live alert rules are: a file Prometheus loads, or (Prometheus in the
    cluster) a key of the ConfigMap its rules volume projects. ``label`` names it in
    messages."""

    label: Path
    read: Callable[[], str]
    write: Callable[[str], None]
    in_cluster: bool = False


def rules_file(ctx: Context) -> RulesSource:
    """The live rules: ``rules_configmap`` (``name`` or ``name/key``, in the environment's
    namespace) when set, else ``rules_file``."""
    ref = ctx.env.rules_configmap or os.environ.get("PFCTL_RULES_CONFIGMAP", "")
    if ref:
        name, _, key = ref.partition("/")
        key = key or RENDERED_FILE  # the file name is the key of ConfigMap pfdrill-alert-rules
        ns = ctx.namespace
        label = Path(f"configmap/{ns}/{name}/{key}")

        def read() -> str:
            data = ctx.client.get_configmap(ns, name)
            if key not in data:
                raise InvalidInput(f"ConfigMap {ns}/{name} has no key {key!r}")
            return data[key]

        return RulesSource(label, read, lambda text: ctx.client.patch_configmap(ns, name, {key: text}),
                           in_cluster=True)
    path = ctx.env.rules_file or os.environ.get("PFCTL_RULES_FILE", "")
    if not path:
        raise ServiceUnavailable(f"no alert rules configured for {ctx.env.name!r} (set rules_file "
                                 f"or rules_configmap in $PFCTL_CONFIG, or $PFCTL_RULES_FILE)")
    p = Path(path)
    if not p.is_file():
        raise InvalidInput("alert rules file does not exist", file=p)

    def write(text: str) -> None:
        tmp_path = p.with_name(f".{p.name}.pfctl")
        tmp_path.write_text(text, encoding="utf-8")
        os.replace(tmp_path, p)

    return RulesSource(p, lambda: p.read_text(encoding="utf-8"), write)


def _prometheus(ctx: Context) -> str:
    url = ctx.env.prometheus_url or os.environ.get("PFCTL_PROMETHEUS_URL", "")
    if not url:
        raise ServiceUnavailable(f"no Prometheus configured for {ctx.env.name!r} to reload")
    return url


def _doc(text: str, path: Path, *, edit: bool = False) -> yamldoc.Document:
    doc = yamldoc.loads(text, path, edit=edit)
    root = doc.root
    if not isinstance(root, dict) or not isinstance(root.get("groups"), list):
        raise doc.error("not a Prometheus rules file (no 'groups' list)",
                        ["groups"] if isinstance(root, dict) else ())
    for i, group in enumerate(root["groups"]):
        if not isinstance(group, dict) or not isinstance(group.get("rules") or [], list):
            raise doc.error("each group is a mapping with a 'rules' list", ["groups", i])
        for j, rule in enumerate(group.get("rules") or []):
            if not isinstance(rule, dict):
                raise doc.error("a rule must be a mapping", ["groups", i, "rules", j])
    return doc


def _alerts(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for g in doc["groups"] for r in (g.get("rules") or []) if "alert" in r]


def signals(doc: dict[str, Any]) -> set[str]:
    return {str(r["record"]).removeprefix("pfdrill:") for g in doc["groups"]
            for r in (g.get("rules") or []) if str(r.get("record", "")).startswith("pfdrill:")}


def resolve(name: str, doc: dict[str, Any]) -> Alias:
    if name in ALIASES:
        return ALIASES[name]
    if name in signals(doc):
        return Alias(name, f"pfdrill:{name}")
    known = sorted(signals(doc) | set(ALIASES))
    raise InvalidInput(f"unknown signal {name!r} (known: {', '.join(known)})")


def _apply(ctx: Context, source: RulesSource, text: str,
           loaded: Callable[[dict[str, str]], bool]) -> str:
    """Check, write, reload Prometheus until ``loaded`` says it runs the new rules.

    A file is there at once. A ConfigMap reaches Prometheus' volume when the kubelet next
    syncs the pod (up to a minute or so on a real cluster), so the reload is repeated
    until Prometheus' rule list shows the edit, for up to
    :data:`~pfdrill.obs.api.CONFIGMAP_SYNC_S`.
    """
    url = _prometheus(ctx)
    with tempfile.TemporaryDirectory(prefix="pfctl-rules-") as tmp:
        candidate = Path(tmp) / source.label.name
        candidate.write_text(text, encoding="utf-8")
        count = promtool.check_rules(candidate, source=source.label)
    source.write(text)
    from pfdrill.obs.api import CONFIGMAP_SYNC_S, PrometheusAPI

    with PrometheusAPI(url) as prom:
        tries = prom.reload_until(loaded, timeout_s=CONFIGMAP_SYNC_S if source.in_cluster else 0.0)
    waited = f" ({tries} reloads: the ConfigMap reached its volume)" if tries > 1 else ""
    return f"promtool: {count} rules valid; Prometheus reloaded{waited}"


def _lists(alert: str) -> Callable[[dict[str, str]], bool]:
    return lambda exprs: alert in exprs


def _compares(changed: dict[str, float]) -> Callable[[dict[str, str]], bool]:
    """Every changed alert is loaded with its new threshold (as Prometheus prints it)."""
    def check(exprs: dict[str, str]) -> bool:
        return all(any(float(n) == value for _op, n in _COMPARISON.findall(exprs.get(alert, "")))
                   for alert, value in changed.items())
    return check


def _prom_duration(text: str, option: str) -> str:
    """An option's duration (``10m``, ``2 hours``) as Prometheus writes it; longer than 0s."""
    seconds = duration.seconds(text, words=True, what=option)
    if seconds <= 0:
        raise InvalidInput(f"{option} {text!r} must be longer than 0s")
    return duration.text(seconds)


def _upsert(text: str, path: Path, rule: dict[str, Any]) -> str:
    """The rules file text with ``rule`` in the pfctl-managed group (replacing a same-named one).

    A round-trip edit: every comment and rule of the file stays as it was written.
    """
    doc = _doc(text, path, edit=True)
    groups = doc.root["groups"]
    mine = [g for g in groups if g.get("name") == GROUP]
    if mine and groups[-1].get("name") != GROUP:
        raise doc.error(f"the {GROUP} group must stay the last group of the file",
                        ["groups", groups.index(mine[0])])
    for group in groups:
        rules = group.get("rules") or []
        same = [i for i, r in enumerate(rules) if str(r.get("alert", "")) == str(rule["alert"])]
        if same:
            del rules[same[0]]
            break
    if not mine:
        groups.append(yamldoc.new_mapping([("name", GROUP), ("rules", yamldoc.new_sequence())]))
    groups[-1]["rules"].append(_tree(rule))
    return yamldoc.dumps(doc)


def _tree(value: Any) -> Any:
    """Nested dicts as mappings the round-trip writer lays out in block style."""
    if isinstance(value, dict):
        return yamldoc.new_mapping((k, _tree(v)) for k, v in value.items())
    return value


def add_alert(ctx: Context, name: str, threshold: str, duration: str, severity: str,
              expr: str | None = None, alert_name: str | None = None) -> dict[str, Any]:
    source = rules_file(ctx)
    path, text = source.label, source.read()
    doc = _doc(text, path).root
    try:
        value = float(threshold)
    except ValueError:
        raise InvalidInput(f"--threshold {threshold!r} is not a number") from None
    alias = Alias("", expr) if expr else resolve(name, doc)
    alert = alert_name or "".join(p.capitalize() for p in re.split(r"[^A-Za-z0-9]+", name) if p)
    rule = {"alert": alert,
            "expr": f"{alias.expr} {alias.op} {alias.convert(value):g}",
            "for": _prom_duration(duration, "--duration"),
            "labels": {"severity": severity, "signal": alias.signal or name, "origin": "pfctl",
                       "runbook_section": "Prevention > Monitoring Improvements"},
            "annotations": {"summary": f"{name} crossed {threshold} (added by pfctl)"}}
    outcome = _apply(ctx, source, _upsert(text, path, rule), _lists(alert))
    ctx.store.add_alert_change("add-alert", alert, str(rule["expr"]))
    return {"alert": alert, "expr": rule["expr"], "for": rule["for"], "file": str(path),
            "prometheus": outcome}


def update_threshold(ctx: Context, metric: str, new: str) -> dict[str, Any]:
    source = rules_file(ctx)
    path, text = source.label, source.read()
    doc = _doc(text, path).root
    try:
        value = float(new)
    except ValueError:
        raise InvalidInput(f"--new-threshold {new!r} is not a number") from None
    alias = resolve(metric, doc)
    target = alias.convert(value)
    changed: list[str] = []
    skipped: list[str] = []
    thresholds: dict[str, float] = {}
    for alert in _alerts(doc):
        expr = str(alert.get("expr", ""))
        uses = (alert.get("labels") or {}).get("signal") == alias.signal if alias.signal else (
            alias.expr in expr)
        if not uses:
            continue
        found = _COMPARISON.findall(expr)
        if len(found) != 1:
            skipped.append(f"{alert['alert']} (a range, not one threshold)")
            continue
        op, old = found[0]
        new_expr = _COMPARISON.sub(f"{op} {target:g}", expr, count=1)
        text, n = _replace_expr(text, str(alert["alert"]), expr, new_expr)
        if n:
            changed.append(f"{alert['alert']}: {op} {old} → {op} {target:g}")
            thresholds[str(alert["alert"])] = float(f"{target:g}")
    if not changed:
        extra = f" (skipped: {', '.join(skipped)})" if skipped else ""
        raise InvalidInput(f"no alert compares {metric!r} with a single threshold{extra}",
                           file=path)
    outcome = _apply(ctx, source, text, _compares(thresholds))
    for c in changed:
        ctx.store.add_alert_change("update-threshold", c.split(":")[0], c)
    return {"signal": alias.signal or metric, "threshold": target, "changed": changed,
            "skipped": skipped, "prometheus": outcome}


def _replace_expr(text: str, alert: str, old: str, new: str) -> tuple[str, int]:
    """Replace ``old`` by ``new`` in the expression of ``alert`` only, keeping its layout."""
    doc = _doc(text, Path("<rules>"), edit=True)
    for group in doc.root["groups"]:
        for rule in group.get("rules") or []:
            expr = str(rule.get("expr", ""))
            if str(rule.get("alert", "")) != alert or old not in expr:
                continue
            yamldoc.replace_text(rule, "expr", expr.replace(old, new, 1))
            return yamldoc.dumps(doc), 1
    return text, 0


def add_predictive(ctx: Context, metric: str, window: str, threshold: str | None,
                   severity: str) -> dict[str, Any]:
    source = rules_file(ctx)
    path, text = source.label, source.read()
    doc = _doc(text, path).root
    alias = resolve(metric, doc)
    horizon = _prom_duration(window, "--prediction-window")
    seconds = int(duration.seconds(horizon))
    lookback = duration.text(max(seconds * 3, 300))
    if threshold is not None:
        limit = f"{alias.convert(float(threshold)):g}"
    elif alias.signal and f"baseline:{alias.signal}" in signals(doc):
        limit = f"10 * clamp_min(pfdrill:baseline:{alias.signal}, 0.1)"
    else:
        raise InvalidInput(f"no baseline for {metric!r}: give --threshold")
    series = f"pfdrill:{alias.signal}" if alias.signal else f"({alias.expr})"
    name = "Predicted" + "".join(p.capitalize() for p in re.split(r"[^A-Za-z0-9]+", metric) if p)
    rule = {"alert": name,
            "expr": f"predict_linear({series}[{lookback}], {seconds}) {alias.op} {limit}",
            "for": "1m",
            "labels": {"severity": severity, "signal": alias.signal or metric, "origin": "pfctl",
                       "runbook_section": "Prevention > Monitoring Improvements"},
            "annotations": {"summary": f"{metric} predicted to cross {limit} within {horizon}"}}
    outcome = _apply(ctx, source, _upsert(text, path, rule), _lists(name))
    ctx.store.add_alert_change("add-predictive", name, str(rule["expr"]))
    return {"alert": name, "expr": rule["expr"], "file": str(path), "prometheus": outcome}


# incident text → the alerts that would have caught it sooner
_LESSONS: tuple[tuple[str, str, str, str], ...] = (
    ("enforc|disabled|bypass", "policy_enforcement_failure", "0", "SEV-1"),
    ("certificate|cert|credential", "cert_verification_rate", "99", "SEV-1"),
    ("reject", "reject_rate_ratio", "5", "SEV-2"),
)


def update_from_incident(ctx: Context, incident_id: str) -> dict[str, Any]:
    row = ctx.store.incident(incident_id)
    text = f"{row['description']} {row['root_cause']} {row['resolution']}".lower()
    source = rules_file(ctx)
    doc = _doc(source.read(), source.label).root
    present = {str(a["alert"]) for a in _alerts(doc)}
    added, kept = [], []
    for pattern, signal, threshold, severity in _LESSONS:
        if not re.search(pattern, text):
            continue
        alert = "".join(p.capitalize() for p in signal.split("_")) + "FromIncident"
        if alert in present:
            kept.append(alert)
            continue
        result = add_alert(ctx, signal, threshold, "1m", severity, alert_name=alert)
        added.append(result["alert"])
    ctx.store.add_event(incident_id, "monitoring_updated",
                        f"added {', '.join(added) or 'nothing'}; present {', '.join(kept) or '-'}")
    return {"incident": incident_id, "added": added, "already_present": kept,
            "matched": bool(added or kept)}
