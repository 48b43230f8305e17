"""Loading and checking experiment files: what pfdrill demands beyond chaostoolkit's own rules.

chaostoolkit accepts an experiment without a steady-state hypothesis ("just
exploring") and, by default, skips rollbacks when a run is interrupted. A
drill scenario may do neither:

- it states a steady-state hypothesis with at least one probe, each with a tolerance;
- every ``pfdrill.chaos.actions.inject_fault`` in the method has a
  ``rollback_fault`` for the same fault or key in ``rollbacks``;
- ``runtime.rollbacks.strategy`` is ``always``, so rollbacks run even when the
  method fails or is interrupted midway;
- the faults named exist and their literal parameters are valid.

Errors are one line naming the file (and line, when the item has one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.faults.fault import check_params
from pfdrill.formats import yamldoc

ACTIONS = "pfdrill.chaos.actions"
_SUBST = re.compile(r"\$\{[^}]+\}")


def load(path: Path) -> tuple[dict[str, Any], yamldoc.Document]:
    """The experiment in ``path`` (JSON or YAML, both read as YAML 1.2) and where its items are."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InvalidInput(f"cannot read the experiment: {reason or exc}", file=path) from None
    doc = yamldoc.loads(text, path, what="JSON/YAML")
    if not isinstance(doc.root, dict):
        raise doc.error("an experiment must be a mapping (title, description, method, ...)")
    data: dict[str, Any] = yamldoc.plain(doc.root)  # chaostoolkit gets builtin types only
    return data, doc


def _pfdrill_call(activity: Any, func: str) -> Mapping[str, Any] | None:
    if not isinstance(activity, dict):
        return None
    provider = activity.get("provider")
    if not isinstance(provider, dict) or provider.get("module") != ACTIONS or provider.get("func") != func:
        return None
    args = provider.get("arguments") or {}
    return args if isinstance(args, dict) else {}


def _key(args: Mapping[str, Any]) -> str | None:
    """The state key an inject/rollback call uses (its default follows the fault's name)."""
    key, fault = args.get("key"), args.get("fault")
    if key:
        return str(key)
    if isinstance(fault, str) and fault and _literal(fault):
        return f"chaos-{fault.strip().lower().replace('-', '_')}"
    return None


def _literal(value: Any) -> bool:
    return not (isinstance(value, str) and _SUBST.search(value))


def check(experiment: Mapping[str, Any], source: str | Path = "<experiment>",
          where: yamldoc.Document | None = None) -> None:
    """InvalidInput naming ``source`` (and the line, when ``where`` has the file) for the
    first rule the experiment breaks."""

    def fail(message: str, *path: str | int) -> InvalidInput:
        if where is None:
            return InvalidInput(message, file=source)
        return where.error(message, path)

    _check_shapes(experiment, fail)
    hypothesis = experiment.get("steady-state-hypothesis")
    if not isinstance(hypothesis, dict):
        raise fail("the experiment has no steady-state-hypothesis: a drill scenario must say what "
                   "healthy means before it injects anything")
    probes = hypothesis.get("probes")
    if not isinstance(probes, list) or not probes:
        raise fail("the steady-state-hypothesis has no probes", "steady-state-hypothesis")
    for i, probe in enumerate(probes):
        if not isinstance(probe, dict) or ("ref" not in probe and "tolerance" not in probe):
            name = probe.get("name", f"#{i + 1}") if isinstance(probe, dict) else f"#{i + 1}"
            raise fail(f"steady-state probe {name!r} has no tolerance", "steady-state-hypothesis", "probes", i)
    method = experiment.get("method")
    if not isinstance(method, list) or not method:
        raise fail("the experiment has no method")
    rollbacks = experiment.get("rollbacks") or []
    if not isinstance(rollbacks, list):
        raise fail("rollbacks must be a list", "rollbacks")
    if deferred_rollback(experiment):
        return _check_strategy(experiment, fail)
    undo_keys = {_key(a) for a in (_pfdrill_call(r, "rollback_fault") for r in rollbacks)
                 if a is not None} - {None}
    for i, activity in enumerate(method):
        args = _pfdrill_call(activity, "inject_fault")
        if args is None:
            continue
        fault = args.get("fault")
        if not isinstance(fault, str) or not fault:
            raise fail("inject_fault needs a 'fault' argument", "method", i)
        if _literal(fault):
            params = args.get("params") or {}
            if not isinstance(params, dict):
                raise fail("inject_fault 'params' must be a mapping", "method", i)
            try:
                check_params(fault, {k: v for k, v in params.items() if _literal(v)})
            except InvalidInput as exc:
                raise fail(exc.message, "method", i) from None
        if _key(args) not in undo_keys:
            raise fail(f"inject_fault of {fault!r} (key {_key(args)!r}) has no rollback_fault "
                       "with that key in rollbacks", "method", i)
    _check_strategy(experiment, fail)


# The types chaostoolkit's validator (and this module) read without checking: a value of
# another type crashes chaostoolkit with AttributeError/TypeError instead of a message.
_TOP_TYPES: dict[str, type | tuple[type, ...]] = {
    "title": str, "description": str, "configuration": dict, "secrets": dict, "controls": list,
    "extensions": list, "tags": list, "runtime": dict, "steady-state-hypothesis": dict,
    "method": list, "rollbacks": list}
_ACTIVITY_TYPES: dict[str, type | tuple[type, ...]] = {
    "name": str, "type": str, "ref": str, "provider": dict, "pauses": dict, "controls": list}
_PROVIDER_TYPES: dict[str, type | tuple[type, ...]] = {
    "type": str, "module": str, "func": str, "arguments": dict, "url": str, "method": str,
    "path": str, "secrets": list, "timeout": (int, float, list)}
_TYPE_NAMES: dict[type | tuple[type, ...], str] = {str: "a string", dict: "a mapping",
                                                   list: "a list"}


def _typed(value: Any, kinds: dict[str, type | tuple[type, ...]], fail: Callable[..., InvalidInput],
           *path: str | int) -> None:
    for key, kind in kinds.items():
        if key in value and value[key] is not None and not isinstance(value[key], kind):
            name = _TYPE_NAMES.get(kind, "a number")
            raise fail(f"{yamldoc.dotted((*path, key))} must be {name}, not "
                       f"{type(value[key]).__name__}", *path, key)


def _check_shapes(experiment: Mapping[str, Any], fail: Callable[..., InvalidInput]) -> None:
    _typed(experiment, _TOP_TYPES, fail)
    for key in ("configuration", "secrets"):
        for name, entry in (experiment.get(key) or {}).items():
            if isinstance(entry, dict):
                _typed(entry, {"type": str, "key": str}, fail, key, name)
    runtime = experiment.get("runtime") or {}
    _typed(runtime, {"rollbacks": dict, "hypothesis": dict}, fail, "runtime")
    for key in ("rollbacks", "hypothesis"):
        _typed(runtime.get(key) or {}, {"strategy": str}, fail, "runtime", key)
    for key in ("controls", "extensions"):
        for i, entry in enumerate(experiment.get(key) or []):
            if not isinstance(entry, dict):
                raise fail(f"{yamldoc.dotted((key, i))} must be a mapping", key, i)
    lists: list[tuple[tuple[str | int, ...], Any]] = [
        (("method",), experiment.get("method")), (("rollbacks",), experiment.get("rollbacks"))]
    hypothesis = experiment.get("steady-state-hypothesis")
    if isinstance(hypothesis, dict):
        _typed(hypothesis, {"title": str, "probes": list}, fail, "steady-state-hypothesis")
        lists.append((("steady-state-hypothesis", "probes"), hypothesis.get("probes")))
    for path, activities in lists:
        for i, activity in enumerate(activities or []):
            if not isinstance(activity, dict):
                raise fail(f"{yamldoc.dotted((*path, i))} must be a mapping (an action or a "
                           "probe)", *path, i)
            _typed(activity, _ACTIVITY_TYPES, fail, *path, i)
            _typed(activity.get("provider") or {}, _PROVIDER_TYPES, fail, *path, i, "provider")


def deferred_rollback(experiment: Mapping[str, Any]) -> bool:
    """True for pfdrill's own inject-only experiments: the drill rolls back in a later one."""
    return any(isinstance(e, dict) and e.get("name") == "pfdrill" and e.get("rollback") == "deferred"
               for e in experiment.get("extensions") or [])


def _check_strategy(experiment: Mapping[str, Any], fail: Callable[..., InvalidInput]) -> None:
    strategy = ((experiment.get("runtime") or {}).get("rollbacks") or {}).get("strategy")
    if strategy != "always":
        raise fail("runtime.rollbacks.strategy must be 'always' so that rollbacks run even when "
                   f"the method fails or is interrupted midway (it is {strategy!r})",
                   *(("runtime",) if strategy is not None else ()))
