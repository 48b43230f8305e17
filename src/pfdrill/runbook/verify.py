"""Did a change take effect? Read back what each kubectl change call asked for.

A runbook's change is judged by its effect, not by kubectl's exit status:

- ``patch configmap``: the ConfigMap holds the patched values; for
  ``policy-config`` the values must also be ones the fabric accepts (the
  fabric's own parser) and the sidecar-watcher must have reloaded them
  rather than refused them (:mod:`pfdrill.runbook.observer`);
- ``scale``: the Deployment's spec says the new count, and that many
  replicas become ready;
- ``patch deployment``, ``rollout restart``: the rollout settles.

A call kubectl itself failed (a ConfigMap that does not exist) fails with
kubectl's own message. Verifiers are found by :class:`ChangeKind`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import ClusterError, ObjectNotFound
from pfdrill.fabric.policy import ConfigRefused, PolicyConfig
from pfdrill.model.fabric import FABRIC
from pfdrill.model.runbook import EffectCheck
from pfdrill.runbook.audit import Call
from pfdrill.runbook.inputs import Options
from pfdrill.runbook.observer import ConfigVerdict, FabricObserver, Verdict


class ChangeKind(enum.Enum):
    CONFIGMAP_PATCH = "configmap patch"
    SCALE = "scale"
    DEPLOYMENT_PATCH = "deployment patch"
    ROLLOUT_RESTART = "rollout restart"
    OTHER = "other"


@dataclasses.dataclass(frozen=True)
class Change:
    kind: ChangeKind
    namespace: str
    name: str
    call: Call
    data: dict[str, str] = dataclasses.field(default_factory=dict)
    replicas: int | None = None
    problem: str = ""  # the patch itself could not be read

    @property
    def unchanged(self) -> bool:
        return "(no change)" in self.call.stdout


_VALUE = frozenset({"-n", "--namespace", "-p", "--patch", "--type", "--replicas", "--patch-file",
                    "-l", "--selector", "-o", "--output", "--context", "--kubeconfig",
                    "-f", "--filename", "--field-manager", "--timeout"})
_CM = ("configmap", "configmaps", "cm")
_DEPLOY = ("deployment", "deployments", "deploy")


def _options(argv: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and len(a) > 1:
            name, eq, inline = a.partition("=")
            if eq:
                opts[name] = inline
            elif name in _VALUE and i + 1 < len(argv):
                opts[name] = argv[i + 1]
                i += 1
            else:
                opts[name] = "true"
        else:
            positional.append(a)
        i += 1
    return positional, opts


def _target(words: list[str]) -> tuple[str, str]:
    """('configmap'|'deployment'|other kind, name) from ``cm NAME`` or ``cm/NAME``."""
    if not words:
        return "", ""
    first = words[0]
    if "/" in first:
        kind, _, name = first.partition("/")
    else:
        kind, name = first, words[1] if len(words) > 1 else ""
    kind = kind.lower().split(".")[0]
    if kind in _CM:
        return "configmap", name
    if kind in _DEPLOY:
        return "deployment", name
    return kind, name


def _patch_data(text: str, patch_type: str) -> tuple[dict[str, str], str]:
    try:
        patch: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return {}, f"the patch is not JSON/YAML: {getattr(exc, 'problem', exc)}"
    data: dict[str, str] = {}
    if patch_type == "json":
        for op in patch if isinstance(patch, list) else []:
            path = str(op.get("path", "")) if isinstance(op, dict) else ""
            if path.startswith("/data/") and op.get("op") in ("add", "replace"):
                data[path[len("/data/"):]] = str(op.get("value"))
        return data, ""
    if not isinstance(patch, dict):
        return {}, "the patch is not a JSON object"
    for k, v in (patch.get("data") or {}).items():
        data[str(k)] = v if isinstance(v, str) else json.dumps(v)
    return data, ""


def parse(call: Call, default_namespace: str) -> Change | None:
    """The change a kubectl call makes; None when it is not one pfdrill verifies."""
    if call.record.tool != "kubectl":
        return None
    positional, opts = _options(call.record.argv)
    if not positional:
        return None
    sub, rest = positional[0], positional[1:]
    ns = opts.get("-n") or opts.get("--namespace") or default_namespace
    if sub == "rollout" and rest and rest[0] == "restart":
        kind, name = _target(rest[1:])
        return Change(ChangeKind.ROLLOUT_RESTART, ns, name, call) if kind == "deployment" else None
    kind, name = _target(rest)
    if sub == "scale" and kind == "deployment":
        raw = opts.get("--replicas", "")
        replicas = int(raw) if raw.lstrip("-").isdigit() else None
        return Change(ChangeKind.SCALE, ns, name, call, replicas=replicas,
                      problem="" if replicas is not None else f"--replicas {raw!r} is not a number")
    if sub == "patch" and kind == "configmap":
        text = opts.get("--patch") or opts.get("-p") or ""
        data, problem = _patch_data(text, opts.get("--type", "strategic"))
        return Change(ChangeKind.CONFIGMAP_PATCH, ns, name, call, data=data, problem=problem)
    if sub == "patch" and kind == "deployment":
        return Change(ChangeKind.DEPLOYMENT_PATCH, ns, name, call)
    if sub in ("apply", "create", "replace", "set", "label", "annotate", "delete", "patch", "scale"):
        return Change(ChangeKind.OTHER, ns, name, call)
    return None


@dataclasses.dataclass(frozen=True)
class Context:
    client: ClusterClient
    observer: FabricObserver | None
    options: Options
    namespace: str = "production"  # where kubectl acts when a call names no namespace


def _kubectl_failed(change: Change) -> EffectCheck | None:
    rec = change.call.record
    if rec.exit_status in (0, None):
        return None
    err = change.call.stderr.strip().splitlines()
    msg = err[-1] if err else f"exit {rec.exit_status}"
    return EffectCheck(f"kubectl {rec.argv[0] if rec.argv else ''} {change.name}".strip(), False,
                       msg, reason=msg)


def _verify_configmap(changes: list[Change], ctx: Context) -> list[EffectCheck]:
    last = changes[-1]
    what = f"ConfigMap {last.namespace}/{last.name}"
    if last.problem:
        return [EffectCheck(what, False, last.problem, reason=last.problem)]
    want: dict[str, str] = {}
    for c in changes:
        want.update(c.data)
    try:
        have = ctx.client.get_configmap(last.namespace, last.name)
    except ObjectNotFound:
        return [EffectCheck(what, False, "does not exist", reason=f"{what} does not exist")]
    except ClusterError as exc:
        return [EffectCheck(what, False, str(exc), reason=str(exc))]
    wrong = {k: have.get(k) for k, v in want.items() if have.get(k) != v}
    shown = ", ".join(f"{k}={v}" for k, v in want.items())
    if wrong:
        seen = ", ".join(f"{k}={v!r}" for k, v in wrong.items())
        return [EffectCheck(f"{what} holds {shown}", False, seen,
                            reason=f"{what} reads back {seen}, not what was patched")]
    checks = [EffectCheck(f"{what} holds {shown}", True, shown)]
    if last.name != FABRIC.policy_config:
        return checks
    v = _verdict(last, want, ctx)
    try:
        PolicyConfig.parse(have)
    except ConfigRefused as exc:
        refusal = f"the fabric refuses this policy-config: {exc}"
        observed = f" (sidecar-watcher: {v.detail})" if v and v.verdict is Verdict.REFUSED else ""
        checks.append(EffectCheck("sidecar-watcher accepts it", False, str(exc),
                                  reason=refusal + observed))
        return checks
    if v is None:
        note = "value unchanged: nothing to reload" if last.unchanged else "no observer"
        checks.append(EffectCheck("sidecar-watcher accepts it", True, note))
        return checks
    if v.verdict is Verdict.REFUSED:
        checks.append(EffectCheck("sidecar-watcher accepts it", False, v.detail,
                                  reason=f"sidecar-watcher refused the change: {v.detail}"))
    else:
        checks.append(EffectCheck("sidecar-watcher accepts it", True, v.detail))
    return checks


def _verdict(change: Change, want: dict[str, str], ctx: Context) -> ConfigVerdict | None:
    """The watcher's verdict: as the wrapper saw it right after the patch, else observed now."""
    if change.unchanged:
        return None
    if change.call.verdict:
        return ConfigVerdict(Verdict(change.call.verdict), change.call.verdict_detail)
    if ctx.observer is None:
        return None
    return ctx.observer.config_verdict(_started(change), want, ctx.options.config_seconds)


def _started(change: Change) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(change.call.record.started_wall)
    except ValueError:
        return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)


def _wait_deployment(change: Change, ctx: Context, want: Callable[[Any], bool],
                     describe: str) -> EffectCheck:
    what = f"Deployment {change.namespace}/{change.name} {describe}"
    deadline = time.monotonic() + ctx.options.settle_seconds
    state = None
    while True:
        try:
            state = ctx.client.get_deployment(change.namespace, change.name)
        except ObjectNotFound:
            return EffectCheck(what, False, "does not exist", reason=f"{what}: no such Deployment")
        except ClusterError as exc:
            return EffectCheck(what, False, str(exc), reason=str(exc))
        if want(state):
            break
        if time.monotonic() >= deadline:
            seen = f"desired {state.replicas}, ready {state.ready}, updated {state.updated}"
            return EffectCheck(what, False, seen, reason=f"{what}: after "
                               f"{ctx.options.settle_seconds:g}s {seen}")
        time.sleep(0.5)
    return EffectCheck(what, True, f"desired {state.replicas}, ready {state.ready}")


def _verify_scale(changes: list[Change], ctx: Context) -> list[EffectCheck]:
    last = changes[-1]
    if last.problem or last.replicas is None:
        return [EffectCheck(f"scale {last.name}", False, last.problem, reason=last.problem)]
    n = last.replicas
    return [_wait_deployment(last, ctx, lambda s: s.replicas == n and s.ready == n
                             and (n == 0 or s.updated >= n), f"scaled to {n} and ready")]


def _verify_rollout(changes: list[Change], ctx: Context) -> list[EffectCheck]:
    return [_wait_deployment(changes[-1], ctx, lambda s: s.settled, "rolled out and ready")]


def _verify_other(changes: list[Change], ctx: Context) -> list[EffectCheck]:
    return []


_VERIFIERS: dict[ChangeKind, Callable[[list[Change], Context], list[EffectCheck]]] = {
    ChangeKind.CONFIGMAP_PATCH: _verify_configmap,
    ChangeKind.SCALE: _verify_scale,
    ChangeKind.DEPLOYMENT_PATCH: _verify_rollout,
    ChangeKind.ROLLOUT_RESTART: _verify_rollout,
    ChangeKind.OTHER: _verify_other,
}


def verify(calls: Sequence[Call], ctx: Context) -> list[EffectCheck]:
    """Effect checks for every kubectl change among ``calls`` (grouped per object, last wins)."""
    groups: dict[tuple[ChangeKind, str, str], list[Change]] = {}
    checks: list[EffectCheck] = []
    for call in calls:
        change = parse(call, ctx.namespace)
        if change is None:
            continue
        failed = _kubectl_failed(change)
        if failed is not None:
            checks.append(failed)
            continue
        kind: ChangeKind = (ChangeKind.DEPLOYMENT_PATCH
                            if change.kind is ChangeKind.ROLLOUT_RESTART else change.kind)
        groups.setdefault((kind, change.namespace, change.name), []).append(change)
    for (kind, _, _), changes in groups.items():
        checks.extend(_VERIFIERS[kind](changes, ctx))
    return checks
