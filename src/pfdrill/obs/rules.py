"""The alert rule source (``deploy/alerts/source/rules.yml``): find it, render it, read it.

Rendering fills the ``${name}`` placeholders of the source (and of the
``promtool`` unit-test templates in ``deploy/alerts/source/tests/``) from a
timing profile; nothing else changes, so comments survive into the live rules
file a person (or ``pfctl monitoring``) may edit. Reading gives typed alert
records used for detection bounds and conformance. The rendered files of both
profiles are committed too, loadable as they are (:mod:`pfdrill.obs.rulefiles`).
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

from pfdrill.errors import InvalidInput
from pfdrill.formats import duration, yamldoc
from pfdrill.model.severity import Severity
from pfdrill.obs.profile import AlertTiming
from pfdrill.settings import assets

RULES_FILE = "source/rules.yml"  # the template, relative to alerts_dir()
TESTS_DIR = "source/tests"  # promtool unit-test templates, relative to alerts_dir()
RENDERED_FILE = "pfdrill-alerts.yml"  # the name inside a live rules dir and in tests
REQUIRED_LABELS = ("severity", "runbook_section", "row", "signal")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def alerts_dir() -> Path:
    """``deploy/alerts`` as shipped with pfdrill, or ``$PFDRILL_ALERTS_DIR``."""
    env = os.environ.get("PFDRILL_ALERTS_DIR")
    return Path(env) if env else assets.path("deploy", "alerts")


def substitute(text: str, variables: dict[str, str], file: str | Path) -> str:
    """Fill ``${name}`` placeholders; an unknown name is an error naming its line."""
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            line = text.count("\n", 0, match.start()) + 1
            raise InvalidInput(
                f"unknown placeholder ${{{name}}} (known: {', '.join(sorted(variables))})",
                file=file, line=line, text=text.splitlines()[line - 1],
            )
        return variables[name]

    return _PLACEHOLDER.sub(fill, text)


def render(source: Path, profile: AlertTiming) -> str:
    if not source.is_file():
        raise InvalidInput("rule source does not exist", file=source)
    text = source.read_text(encoding="utf-8")
    body = substitute(text, profile.variables(), source)
    parse(body, source)  # validate structure before anyone loads it
    return _with_trailer(body, source, profile)


def _with_trailer(body: str, source: Path, profile: AlertTiming) -> str:
    # A trailer, not a header: line numbers (promtool's too) stay those of the source.
    trailer = (f"# Rendered from {source.name} for the '{profile.name.value}' timing profile "
               "by pfdrill; edit the source, not this file.\n")
    return body + ("" if body.endswith("\n") else "\n") + trailer


def render_to(directory: Path, profile: AlertTiming, source: Path | None = None) -> Path:
    """Render the rule source into ``directory/pfdrill-alerts.yml`` (atomically)."""
    source = source or alerts_dir() / RULES_FILE
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / RENDERED_FILE
    tmp = target.with_suffix(".tmp")
    tmp.write_text(render(source, profile), encoding="utf-8")
    os.replace(tmp, target)
    return target


@dataclasses.dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_s: float
    severity: Severity
    runbook_section: str
    row: str
    signal: str
    labels: dict[str, str]
    line: int


@dataclasses.dataclass(frozen=True)
class RecordingRule:
    name: str
    expr: str
    line: int


@dataclasses.dataclass(frozen=True)
class RuleSet:
    alerts: tuple[AlertRule, ...]
    records: tuple[RecordingRule, ...]

    def alert(self, name: str) -> AlertRule | None:
        return next((a for a in self.alerts if a.name == name), None)

    def for_row(self, row: str) -> tuple[AlertRule, ...]:
        return tuple(a for a in self.alerts if a.row == row)


def parse(text: str, file: str | Path) -> RuleSet:
    """Read a rendered rule file; structural problems are errors naming file and line."""
    doc = yamldoc.loads(text, file)
    root = doc.root
    if not isinstance(root, dict) or not isinstance(root.get("groups"), list):
        raise doc.error("a rule file is a mapping with a 'groups' list", ["groups"])
    alerts: list[AlertRule] = []
    records: list[RecordingRule] = []
    for g, group in enumerate(root["groups"]):
        if not isinstance(group, dict) or not isinstance(group.get("rules"), list):
            raise doc.error("each group needs 'name' and a 'rules' list", ["groups", g])
        for r, rule in enumerate(group["rules"]):
            where: list[yamldoc.PathPart] = ["groups", g, "rules", r]
            line = doc.line(where) or 1
            if not isinstance(rule, dict):
                raise doc.error("a rule must be a mapping", where)
            if isinstance(rule.get("expr"), bool) or not isinstance(rule.get("expr"), str | int | float):
                raise doc.error("rule has no 'expr'", where)
            if "record" in rule:
                records.append(RecordingRule(str(rule["record"]), str(rule["expr"]), line))
            elif "alert" in rule:
                alerts.append(_alert(rule, doc, where))
            else:
                raise doc.error("rule is neither 'alert' nor 'record'", where)
    names = [a.name for a in alerts]
    for alert in alerts:
        if names.count(alert.name) > 1:
            raise doc.error(f"alert {alert.name!r} is defined twice", line=alert.line)
    return RuleSet(tuple(alerts), tuple(records))


def _alert(rule: dict[str, Any], doc: yamldoc.Document, where: list[yamldoc.PathPart]) -> AlertRule:
    name = str(rule["alert"])
    labels = rule.get("labels") or {}
    if not isinstance(labels, dict):
        raise doc.error(f"alert {name!r}: labels must be a mapping", [*where, "labels"])
    labels = {str(k): str(v) for k, v in labels.items()}
    missing = [k for k in REQUIRED_LABELS if not labels.get(k)]
    if missing:
        raise doc.error(f"alert {name!r} lacks label(s) {', '.join(missing)}", where)
    try:
        severity = Severity.parse(labels["severity"])
    except ValueError as exc:
        raise doc.error(f"alert {name!r}: {exc}", [*where, "labels", "severity"]) from None
    try:
        for_s = duration.seconds(str(rule.get("for", "0s")), what="'for'")
    except InvalidInput as exc:
        raise doc.error(f"alert {name!r}: {exc.message}", [*where, "for"]) from None
    return AlertRule(
        name=name, expr=str(rule["expr"]), for_s=for_s, severity=severity,
        runbook_section=labels["runbook_section"], row=labels["row"], signal=labels["signal"],
        labels=labels, line=doc.line(where) or 1,
    )


def load(path: Path) -> RuleSet:
    if not path.is_file():
        raise InvalidInput("rule file does not exist", file=path)
    return parse(path.read_text(encoding="utf-8"), path)


def render_tests(profile: AlertTiming, source_dir: Path | None = None) -> dict[str, str]:
    """The promtool unit tests (``source/tests/*.yml``) for ``profile``: file name → text.
    Each names ``pfdrill-alerts.yml`` beside it in ``rule_files``."""
    source_dir = source_dir or alerts_dir()
    return {template.name: _with_trailer(
                substitute(template.read_text(encoding="utf-8"), profile.variables(), template),
                template, profile)
            for template in sorted((source_dir / TESTS_DIR).glob("*.yml"))}


def render_suite(directory: Path, profile: AlertTiming, source_dir: Path | None = None
                 ) -> tuple[Path, list[Path]]:
    """Render the rules and their promtool unit tests side by side into ``directory``."""
    source_dir = source_dir or alerts_dir()
    rule_file = render_to(directory, profile, source_dir / RULES_FILE)
    tests = []
    for name, text in render_tests(profile, source_dir).items():
        (directory / name).write_text(text, encoding="utf-8")
        tests.append(directory / name)
    return rule_file, tests


@dataclasses.dataclass(frozen=True)
class Verification:
    profile: str
    rules: int  # rules promtool found
    tests: tuple[str, ...]  # test files run
    failed: tuple[str, ...]  # test files that failed
    output: str

    @property
    def ok(self) -> bool:
        return bool(self.tests) and not self.failed


def verify(profile: AlertTiming, directory: Path, source_dir: Path | None = None) -> Verification:
    """``promtool check rules`` then ``promtool test rules`` for one profile.

    A rule file promtool rejects raises :class:`InvalidInput` naming the source;
    failing unit tests are reported in the result.
    """
    from pfdrill.obs import promtool

    source_dir = source_dir or alerts_dir()
    rule_file, tests = render_suite(directory, profile, source_dir)
    count = promtool.check_rules(rule_file, source=source_dir / RULES_FILE)
    run = promtool.run_tests(tests)
    return Verification(
        profile=profile.name.value, rules=count, tests=tuple(t.name for t in tests),
        failed=tuple(p.name for p in run.failed()), output=run.output,
    )
