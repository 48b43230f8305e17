"""Drill files (``drills/*.yaml``): load, validate against the JSON Schema, build :class:`SuiteSpec`.

Every problem is one :class:`~pfdrill.errors.InvalidInput` naming the file,
the line and what is wrong, e.g.::

    drills/weekly.yaml:14: drills[0].expect.severity: 'SEV-5' is not one of
    'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4' (line: "severity: SEV-5")

:func:`load` checks the file on its own (schema, names, regular expressions);
:func:`check` then asks the fault catalog and the runbook executor whether
the faults, their parameters and the runbook sections exist — both before
anything touches a cluster.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from pfdrill.drill import checks, criteria
from pfdrill.drill.ports import FaultCatalog, RunbookRunner
from pfdrill.errors import InvalidInput
from pfdrill.formats import yamldoc
from pfdrill.formats.yamldoc import Document, PathPart
from pfdrill.model.drill import (
    CheckKind,
    CheckSpec,
    DrillSpec,
    FaultSpec,
    MetricQuery,
    Op,
    RunbookPlan,
    SourceRef,
    SuiteSpec,
)
from pfdrill.model.severity import Severity
from pfdrill.model.sla import TimingProfile, default_budgets

Raw = dict[str, Any]


@functools.cache
def package_schema(package: str, name: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``package``: each YAML file kind pfdrill reads has one."""
    text = importlib.resources.files(package).joinpath(name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def schema() -> dict[str, Any]:
    return package_schema("pfdrill.drill", "suite.schema.json")


def _schema_error(err: jsonschema.ValidationError, index: Document) -> tuple[int, str]:
    path = list(err.absolute_path)
    line = index.line(path)
    message = err.message
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        sub = err.schema if isinstance(err.schema, dict) else {}
        allowed = set(sub.get("properties", {}))
        extra = sorted(k for k in err.instance if k not in allowed)
        if extra:
            line = index.key_line(path, extra[0])
            message = (f"unknown key {extra[0]!r} (allowed: {', '.join(sorted(allowed))})"
                       if allowed else f"unknown key {extra[0]!r}")
    elif err.validator == "enum" and isinstance(err.validator_value, list):
        message = (f"{err.instance!r} is not one of "
                   f"{', '.join(repr(v) for v in err.validator_value)}")
    elif err.validator in ("minProperties", "maxProperties") and err.schema is schema()[
            "$defs"]["check"]:
        message = "a check is a mapping with exactly one of: " + ", ".join(
            k.value for k in CheckKind)
    return line or 0, f"{yamldoc.dotted(path)}: {message}"


def validate_schema(data: Any, file: Path, index: Document,
                    against: dict[str, Any] | None = None) -> None:
    """Check ``data`` against ``against`` (default: the suite schema); the best error, with its line.

    Other YAML files with a schema (``drills/schedule.yaml``) report their problems
    through this too, so every file pfdrill reads points at a line the same way.
    """
    validator = jsonschema.Draft202012Validator(against or schema())
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    # the deepest error first explains a oneOf/anyOf failure best; then by line
    best = jsonschema.exceptions.best_match(errors)
    found = sorted((_schema_error(e, index) for e in errors), key=lambda x: x[0])
    line, message = _schema_error(best, index) if best is not None else found[0]
    more = f" ({len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise InvalidInput(message + more, file=file, line=line or None, text=index.text(line))


# --- checks -------------------------------------------------------------------------
_OPS = {"equals": Op.EQ, "not_equals": Op.NE, "contains": Op.CONTAINS, "above": Op.GT,
        "below": Op.LT, "at_least": Op.GE, "at_most": Op.LE}


def _op(body: Raw, names: Sequence[str]) -> tuple[Op, str]:
    for name in names:
        if name in body:
            value = body[name]
            return _OPS[name], (str(value).lower() if isinstance(value, bool) else str(value))
    raise ValueError("no comparison")  # the schema makes this unreachable


def _check_configmap(b: Raw) -> CheckSpec:
    op, value = _op(b, ("equals", "not_equals", "contains"))
    return CheckSpec(CheckKind.CONFIGMAP, target=b["name"], key=b["key"], op=op, value=value)


def _check_replicas(b: Raw) -> CheckSpec:
    op, value = _op(b, ("equals", "at_least", "at_most"))
    return CheckSpec(CheckKind.REPLICAS, target=b["deployment"], key=b.get("of", "desired"),
                     op=op, value=value)


def _check_notification(b: Raw) -> CheckSpec:
    return CheckSpec(CheckKind.NOTIFICATION, target=b["channel"], key=b.get("matching", ""),
                     op=Op.GE, value=str(b.get("at_least", 1)))


def _check_log(b: Raw) -> CheckSpec:
    return CheckSpec(CheckKind.LOG, target=b["selector"], op=Op.CONTAINS, value=b["matches"])


def _check_metric(b: Raw) -> CheckSpec:
    op, value = _op(b, ("equals", "above", "below", "at_least", "at_most"))
    return CheckSpec(CheckKind.METRIC, target=b["query"], op=op, value=value)


_CHECKS: dict[CheckKind, Callable[[Raw], CheckSpec]] = {
    CheckKind.CONFIGMAP: _check_configmap,
    CheckKind.REPLICAS: _check_replicas,
    CheckKind.NOTIFICATION: _check_notification,
    CheckKind.LOG: _check_log,
    CheckKind.METRIC: _check_metric,
    CheckKind.STEADY_STATE: lambda b: CheckSpec(CheckKind.STEADY_STATE),
}


def _checks(items: list[Raw], path: list[PathPart], file: Path,
            index: Document) -> tuple[CheckSpec, ...]:
    out = []
    for i, item in enumerate(items):
        ((kind_name, body),) = item.items()
        spec = _CHECKS[CheckKind(kind_name)](body if isinstance(body, dict) else {})
        try:
            checks.validate(spec)
        except InvalidInput as exc:
            line = index.line([*path, i])
            raise InvalidInput(f"{yamldoc.dotted([*path, i])}: {exc.message}", file=file, line=line,
                               text=index.text(line)) from None
        out.append(spec)
    return tuple(out)


# --- drills -------------------------------------------------------------------------
def _sla_overrides(raw: Raw | None, profile: TimingProfile) -> dict[str, float]:
    if not raw:
        return {}
    flat = {k: float(v) for k, v in raw.items() if not isinstance(v, dict)}
    flat.update({k: float(v) for k, v in (raw.get(profile.value) or {}).items()})
    return flat


def _runbook_path(raw: str, file: Path) -> str:
    p = Path(raw)
    return str(p if p.is_absolute() else (file.parent / p).resolve())


def _drill(raw: Raw, defaults: Raw, i: int, file: Path, index: Document,
           profile_override: TimingProfile | None) -> DrillSpec:
    path: list[PathPart] = ["drills", i]
    profile = profile_override or TimingProfile(raw.get("profile") or defaults.get("profile")
                                                 or "drill")
    severity = Severity.parse(raw["expect"]["severity"])
    sla = default_budgets(profile, severity).merged(
        _sla_overrides(defaults.get("sla"), profile)).merged(
        _sla_overrides(raw.get("sla"), profile))
    rb = raw["runbook"]
    rb_path = rb.get("path") or defaults.get("runbook")
    if not rb_path:
        line = index.line([*path, "runbook"])
        raise InvalidInput(f"{yamldoc.dotted([*path, 'runbook'])}: no runbook path (set runbook.path "
                           f"or defaults.runbook)", file=file, line=line, text=index.text(line))
    crit: Any = raw.get("criteria", defaults.get("criteria", "all"))
    crit_names = ("all",) if crit == "all" else tuple(crit)
    criteria.parse(crit_names)  # the schema's enum guarantees these parse
    metrics: list[Raw] = raw.get("metrics") or defaults.get("metrics") or []
    return DrillSpec(
        name=raw["name"], description=raw.get("description", ""),
        scenario=raw.get("scenario", ""),
        fault=FaultSpec(raw["fault"]["name"], dict(raw["fault"].get("params") or {})),
        expected_severity=severity, expected_alerts=tuple(raw["expect"]["alerts"]),
        profile=profile, sla=sla,
        runbook=RunbookPlan(path=_runbook_path(rb_path, file), respond=tuple(rb["respond"]),
                            recover=tuple(rb.get("recover", ())),
                            follow_up=tuple(rb.get("follow_up", ()))),
        mitigation=_checks(raw["mitigation"], [*path, "mitigation"], file, index),
        recovery=_checks(raw.get("recovery", []), [*path, "recovery"], file, index),
        criteria=crit_names,
        metrics=tuple(MetricQuery(m["name"], m["query"]) for m in metrics),
        source=SourceRef(str(file), index.line(path)))


def load(path: str | Path, *, profile: TimingProfile | None = None) -> SuiteSpec:
    """Read and validate a drill file; ``profile`` overrides every drill's timing profile."""
    file = Path(path)
    index = yamldoc.load(file)
    data = index.root
    if not isinstance(data, dict):
        raise InvalidInput("a drill file is a mapping with 'suite' and 'drills'", file=file,
                           line=1)
    validate_schema(data, file, index)
    defaults: Raw = data.get("defaults") or {}
    seen: dict[str, int] = {}
    drills = []
    for i, raw in enumerate(data["drills"]):
        line = index.line(["drills", i, "name"]) or 0
        if raw["name"] in seen:
            raise InvalidInput(f"drills[{i}].name: duplicate drill name {raw['name']!r} (first "
                               f"on line {seen[raw['name']]})", file=file, line=line,
                               text=index.text(line))
        seen[raw["name"]] = line
        drills.append(_drill(raw, defaults, i, file, index, profile))
    return SuiteSpec(name=data["suite"], file=str(file), drills=tuple(drills),
                     description=data.get("description", ""))


def select(suite: SuiteSpec, only: Sequence[str]) -> SuiteSpec:
    """The drills named in ``only`` (all when empty); an unknown name is bad input."""
    if not only:
        return suite
    names = [d.name for d in suite.drills]
    unknown = [n for n in only if n not in names]
    if unknown:
        raise InvalidInput(f"no drill named {', '.join(map(repr, unknown))} in this suite "
                           f"(has: {', '.join(names)})", file=suite.file)
    return suite.only(tuple(only))


def check(suite: SuiteSpec, faults: FaultCatalog, runbook: RunbookRunner) -> None:
    """Ask the fault catalog and runbook executor about every drill; change nothing."""
    for drill in suite.drills:
        origin = drill.source or SourceRef(suite.file)
        try:
            faults.create(drill.fault.name).validate(drill.fault.params)
            if drill.runbook is not None:
                plan = drill.runbook
                runbook.validate(plan.path, [*plan.respond, *plan.recover, *plan.follow_up])
        except InvalidInput as exc:
            # Point at the drill that asked; keep the runbook's own place in the message.
            inner = exc.one_line() if exc.file and exc.file != origin.file else exc.message
            raise InvalidInput(f"drill {drill.name!r}: {inner}", file=origin.file,
                               line=origin.line) from None
