"""``pfctl policy ...`` and ``pfctl security audit``: the permit rules, validations and posture.

- ``policy update --file``: new permit rules for the policy adapter
  (ConfigMap ``policy-adapter-config``, key ``rules.yaml``), validated with the
  fabric's parser first, then applied and confirmed from the adapter's log.
- ``policy add-validation --rule NAME``: a named validation turned on or off;
  each maps to the fabric setting that implements it (``strict_witness_check``
  is high-assurance mode: every request needs a valid witness).
- ``policy update-declass --file``: declassification rules, validated against
  the label lattice and kept in ConfigMap ``policy-declass``. The reference
  fabric does not read them (its NI monitor has no declassification), which
  the command says.
- ``policy review`` / ``security audit``: findings from the live state.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from pfdrill.errors import ClusterError, InvalidInput, ObjectNotFound
from pfdrill.fabric import dfa
from pfdrill.fabric.labels import Label
from pfdrill.fabric.policy import ConfigRefused, FailureMode, PolicyConfig
from pfdrill.fabric.rules import RULES_KEY, RuleSet, RulesRefused
from pfdrill.formats import yamldoc
from pfdrill.model.fabric import FABRIC
from pfdrill.pfctl import canary, trust
from pfdrill.pfctl.context import Context
from pfdrill.runbook.observer import Verdict

DECLASS_CONFIGMAP = FABRIC.declass_config
# validation name → (policy-config key, value when enabled, value when disabled)
VALIDATIONS: dict[str, tuple[str, str, str]] = {
    "strict_witness_check": ("high_assurance_mode", "true", "false"),
    "fail_closed_adapter": ("adapter_failure_mode", "fail_closed", "fail_open"),
}


def _patch_and_confirm(ctx: Context, name: str, data: dict[str, str], selector: str,
                       expected: dict[str, str], timeout_s: float) -> str:
    before = ctx.client.get_configmap(ctx.namespace, name)
    started = dt.datetime.now(dt.UTC)
    ctx.client.patch_configmap(ctx.namespace, name, data)
    if all(before.get(k) == v for k, v in data.items()):
        return "unchanged"
    seen = ctx.observer(selector).config_verdict(started, expected, timeout_s)
    if seen.verdict is Verdict.REFUSED:
        raise InvalidInput(f"{name} was refused: {seen.detail}")
    return seen.detail


def update_rules(ctx: Context, file: Path, timeout_s: float = 15.0) -> dict[str, Any]:
    if not file.is_file():
        raise InvalidInput("file does not exist", file=file)
    text = file.read_text(encoding="utf-8")
    try:
        rules = RuleSet.parse(text)
    except RulesRefused as exc:
        raise InvalidInput(f"the policy adapter would refuse these rules: {exc}", file=file) from None
    outcome = _patch_and_confirm(ctx, FABRIC.adapter_config, {RULES_KEY: text},
                                 FABRIC.adapter_selector, {}, timeout_s)
    return {"rules": len(rules.rules), "default": "allow" if rules.default_allow else "deny",
            "adapter": outcome}


def add_validation(ctx: Context, rule: str, enabled: bool, timeout_s: float = 15.0) -> dict[str, Any]:
    if rule not in VALIDATIONS:
        raise InvalidInput(f"unknown validation {rule!r} (known: {', '.join(VALIDATIONS)})")
    key, on, off = VALIDATIONS[rule]
    value = on if enabled else off
    outcome = _patch_and_confirm(ctx, FABRIC.policy_config, {key: value},
                                 FABRIC.watcher_selector, {key: value}, timeout_s)
    ctx.store.set_validation(rule, enabled)
    return {"rule": rule, "enabled": enabled, "setting": f"{key}={value}", "watcher": outcome}


def update_declass(ctx: Context, file: Path) -> dict[str, Any]:
    if not file.is_file():
        raise InvalidInput("file does not exist", file=file)
    doc = yamldoc.load(file)
    raw = doc.root
    rules = raw.get("rules") if isinstance(raw, dict) else None
    if not isinstance(rules, list) or not rules:
        raise doc.error("expected 'rules:' with a list of {name, from, to, principals}",
                        ["rules"] if isinstance(raw, dict) else ())
    for i, r in enumerate(rules):
        if not isinstance(r, dict) or not r.get("name") or not r.get("principals"):
            raise doc.error(f"rules[{i}] needs name and principals", ["rules", i])
        try:
            src, dst = Label.parse(r.get("from")), Label.parse(r.get("to"))
        except ValueError as exc:
            raise doc.error(f"rules[{i}]: {exc}", ["rules", i]) from None
        if dst.dominates(src):
            raise doc.error(f"rules[{i}] ({r['name']}): {src.value}->{dst.value} is not a "
                            f"declassification (the flow is already allowed)", ["rules", i])
    text = yaml.safe_dump({"rules": yamldoc.plain(rules)}, sort_keys=False)
    try:
        ctx.client.replace_configmap(ctx.namespace, DECLASS_CONFIGMAP, {"rules.yaml": text})
    except ObjectNotFound:
        ctx.client.apply([{"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": DECLASS_CONFIGMAP, "namespace": ctx.namespace},
                           "data": {"rules.yaml": text}}], field_manager="pfctl")
    return {"rules": len(rules), "configmap": DECLASS_CONFIGMAP,
            "note": "recorded; the reference fabric's NI monitor does not apply declassification"}


def findings(ctx: Context, deep: bool = False) -> list[dict[str, str]]:
    """(severity high|medium|info, area, message) for ``policy review`` and ``security audit``."""
    out: list[dict[str, str]] = []

    def add(sev: str, area: str, msg: str) -> None:
        out.append({"severity": sev, "area": area, "message": msg})

    ns = ctx.namespace
    try:
        cfg = PolicyConfig.parse(ctx.client.get_configmap(ns, FABRIC.policy_config))
        if cfg.enforcement_mode.value != "enforce":
            add("high", "policy-config", f"enforcement_mode is {cfg.enforcement_mode.value}")
        if cfg.adapter_failure_mode is FailureMode.FAIL_OPEN:
            add("high", FABRIC.policy_config, "adapter_failure_mode is fail_open")
        if not cfg.high_assurance_mode:
            add("info", FABRIC.policy_config, "high_assurance_mode is off (witnesses optional)")
    except ConfigRefused as exc:
        add("high", "policy-config", f"invalid: {exc}")
    except ClusterError as exc:
        add("high", FABRIC.policy_config, str(exc))
    try:
        if ctx.client.get_deployment(ns, FABRIC.watcher).replicas == 0:
            add("high", FABRIC.watcher, "scaled to 0: nothing enforces policy")
    except ClusterError as exc:
        add("high", FABRIC.watcher, str(exc))
    try:
        rules = RuleSet.parse(ctx.client.get_configmap(ns, FABRIC.adapter_config).get(RULES_KEY, ""))
        if rules.default_allow:
            add("high", "permit rules", "default is allow")
        for r in rules.rules:
            if r.allow and "*" in r.principals:
                add("medium", "permit rules", f"rule {r.name} allows every principal")
    except (RulesRefused, ClusterError) as exc:
        add("high", "permit rules", str(exc))
    try:
        files = {k: v.encode() for k, v in ctx.client.get_configmap(ns, FABRIC.dfa_artifact).items()}
        dfa.load_artifact(files)
    except (dfa.DfaRefused, ClusterError) as exc:
        add("high", FABRIC.dfa_artifact, str(exc))
    try:
        _, bundle = trust.read_bundle(ctx)
        if len(bundle.keys) > 1:
            add("info", "trust bundle", f"{len(bundle.keys)} CA keys trusted (rotation in progress?)")
    except (InvalidInput, ClusterError) as exc:
        add("high", "trust bundle", str(exc) if not isinstance(exc, InvalidInput) else exc.message)
    if deep:
        _deep(ctx, add)
    return out


def _deep(ctx: Context, add: Any) -> None:
    try:
        logs = ctx.logs.pod_logs(ctx.namespace, FABRIC.watcher_selector)
    except ClusterError as exc:
        add("medium", "logs", f"cannot read watcher logs: {exc}")
        logs = {}
    words = ("AUTH_FAILED", "BYPASS", "BREAK_GLASS", "OVERRIDE")
    counts = {w: sum(text.count(w) for text in logs.values()) for w in words}
    for w, n in counts.items():
        if n:
            # History, not posture: what the current pods logged since they started.
            add("medium", "logs", f"{n} log line(s) tagged {w} from the running watchers")
    ca = trust.context_ca(ctx)
    try:
        ready = ctx.client.get_deployment(ctx.namespace, FABRIC.watcher).ready > 0
    except ClusterError:
        ready = False
    if ca is None or not ready:
        add("info", "canary", "foreign-certificate canary not sent (no CA or no ready watcher)")
        return
    cfg = PolicyConfig.parse(ctx.client.get_configmap(ctx.namespace, FABRIC.policy_config))
    for r in canary.run(ctx.watcher_url(), canary.canaries(ca, ("unauthenticated:foreign_ca",)),
                        cfg.enforcement_mode):
        if r.allow and cfg.enforcement_mode.value == "enforce":
            add("high", "canary", "a certificate from an untrusted CA was allowed")


def review(ctx: Context) -> dict[str, Any]:
    ns = ctx.namespace
    doc: dict[str, Any] = {"namespace": ns, "reviewed_at": dt.datetime.now(dt.UTC).isoformat()}
    try:
        doc["policy_config"] = PolicyConfig.parse(
            ctx.client.get_configmap(ns, FABRIC.policy_config)).to_dict()
    except (ConfigRefused, ClusterError) as exc:
        doc["policy_config"] = {"error": str(exc)}
    try:
        doc["permit_rules"] = RuleSet.parse(
            ctx.client.get_configmap(ns, FABRIC.adapter_config).get(RULES_KEY, "")).to_dict()
    except (RulesRefused, ClusterError) as exc:
        doc["permit_rules"] = {"error": str(exc)}
    try:
        files = {k: v.encode() for k, v in ctx.client.get_configmap(ns, FABRIC.dfa_artifact).items()}
        automaton = dfa.load_artifact(files)
        doc["dfa"] = {"name": automaton.name, "sha256": automaton.sha256,
                      "states": len(automaton.states), "events": sorted(automaton.alphabet)}
    except (dfa.DfaRefused, ClusterError) as exc:
        doc["dfa"] = {"error": str(exc)}
    doc["validations"] = {r["rule"]: bool(r["enabled"]) for r in ctx.store.query(
        "SELECT rule, enabled FROM validations")}
    doc["findings"] = findings(ctx)
    return doc


def dump(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"
