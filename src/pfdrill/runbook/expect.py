"""Expectations a runbook states about its own effect, in invisible HTML comments.

A section may say what must hold once its commands have run::

    <!-- pfdrill: expect configmap policy-config enforcement_mode == enforce -->
    <!-- pfdrill: expect deployment sidecar-watcher replicas == 0 when SEVERITY == SEV-1 -->
    <!-- pfdrill: expect deployment sidecar-watcher ready >= 1 -->
    <!-- pfdrill: expect notification security >= 1 when SEVERITY == SEV-1 -->

They render as nothing, so the runbook reads the same for a human (a reviewer
reads them in the source, as in a diff; they run nothing), and they
turn "the recovery ends in enforce" into something ``pfdrill runbook check``
verifies: a recovery edited to skip its final ``enforce`` still runs every
command successfully, and fails here. All directives are parsed before
anything runs; a bad one is an InvalidInput naming its line. Only a line of
an HTML block outside a block quote is a directive
(:mod:`pfdrill.runbook.markdown`): inside a code block or a quote it is text.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import ClusterError, InvalidInput
from pfdrill.model.runbook import Directive, Section

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le,
    ">": operator.gt, "<": operator.lt,
}
_GRAMMAR = re.compile(
    r"^expect\s+(?P<kind>\S+)\s+(?P<target>\S+)\s+(?:(?P<key>\S+)\s+)?(?P<op>==|!=|>=|<=|>|<)\s+"
    r"(?P<value>\S+)(?:\s+when\s+(?P<var>[A-Z_][A-Z0-9_]*)\s*(?P<wop>==|!=)\s*(?P<wval>\S+))?$")


class Kind(enum.Enum):
    CONFIGMAP = "configmap"
    DEPLOYMENT = "deployment"
    NOTIFICATION = "notification"


DEPLOYMENT_FIELDS = ("replicas", "ready")


@dataclasses.dataclass(frozen=True)
class Expectation:
    directive: Directive
    section: str
    kind: Kind
    target: str
    key: str
    op: str
    value: str
    when: tuple[str, str, str] | None = None  # (VAR, op, value)

    def applies(self, variables: Mapping[str, str]) -> tuple[bool, str]:
        if self.when is None:
            return True, ""
        var, op, value = self.when
        have = variables.get(var, "")
        holds = _OPS[op](have, value)
        return holds, "" if holds else f"{var}={have or '(unset)'}, not {op} {value}"


class NotificationCounter(Protocol):
    def count(self, channel: str) -> int:
        """Notifications delivered on ``channel`` during this run."""
        ...


def parse(directive: Directive, section: Section, source: str) -> Expectation | None:
    """The expectation in a directive (None for directives that are not ``expect``)."""
    text = directive.text.strip()
    if not text.startswith("expect"):
        raise InvalidInput(f"unknown pfdrill directive {text.split()[0] if text else '(empty)'!r}"
                           " (known: expect)", file=source, line=directive.line, text=text)
    m = _GRAMMAR.match(text)
    if not m:
        raise InvalidInput("expectation must read 'expect KIND TARGET [KEY] OP VALUE "
                           "[when VAR ==|!= VALUE]'", file=source, line=directive.line, text=text)
    try:
        kind = Kind(m.group("kind"))
    except ValueError:
        raise InvalidInput(f"unknown expectation kind {m.group('kind')!r} (known: "
                           f"{', '.join(k.value for k in Kind)})", file=source,
                           line=directive.line, text=text) from None
    key = m.group("key") or ""
    if kind is Kind.CONFIGMAP and not key:
        raise InvalidInput("a configmap expectation names a key", file=source,
                           line=directive.line, text=text)
    if kind is Kind.DEPLOYMENT and key not in DEPLOYMENT_FIELDS:
        raise InvalidInput(f"a deployment expectation is about {' or '.join(DEPLOYMENT_FIELDS)}",
                           file=source, line=directive.line, text=text)
    if kind in (Kind.DEPLOYMENT, Kind.NOTIFICATION) and not m.group("value").isdigit():
        raise InvalidInput("expected a whole number", file=source, line=directive.line, text=text)
    if kind is Kind.NOTIFICATION and key:
        raise InvalidInput("a notification expectation is 'notification CHANNEL OP COUNT'",
                           file=source, line=directive.line, text=text)
    when = (m.group("var"), m.group("wop"), m.group("wval")) if m.group("var") else None
    return Expectation(directive, section.name, kind, m.group("target"), key, m.group("op"),
                       m.group("value"), when)


def plan(sections: tuple[Section, ...], source: str) -> dict[str, tuple[Expectation, ...]]:
    """Every expectation of ``sections`` by section name; parse errors before anything runs."""
    out: dict[str, tuple[Expectation, ...]] = {}
    for s in sections:
        found = [e for d in s.directives if (e := parse(d, s, source)) is not None]
        if found:
            out[s.name] = tuple(found)
    return out


@dataclasses.dataclass(frozen=True)
class Observation:
    ok: bool
    observed: str


def _configmap(e: Expectation, client: ClusterClient, ns: str, _: NotificationCounter) -> Observation:
    try:
        data = client.get_configmap(ns, e.target)
    except ClusterError as exc:
        return Observation(False, str(exc))
    have = data.get(e.key)
    if have is None:
        return Observation(False, f"{e.key} is not set")
    return Observation(_OPS[e.op](have, e.value), f"{e.key}={have}")


def _deployment(e: Expectation, client: ClusterClient, ns: str, _: NotificationCounter) -> Observation:
    try:
        state = client.get_deployment(ns, e.target)
    except ClusterError as exc:
        return Observation(False, str(exc))
    have = state.replicas if e.key == "replicas" else state.ready
    return Observation(_OPS[e.op](have, int(e.value)), f"{e.key}={have}")


def _notification(e: Expectation, client: ClusterClient, ns: str,
                  counter: NotificationCounter) -> Observation:
    n = counter.count(e.target)
    return Observation(_OPS[e.op](n, int(e.value)), f"{n} {e.target} notification(s)")


_EVALUATORS: dict[Kind, Callable[[Expectation, ClusterClient, str, NotificationCounter],
                                 Observation]] = {
    Kind.CONFIGMAP: _configmap,
    Kind.DEPLOYMENT: _deployment,
    Kind.NOTIFICATION: _notification,
}


def evaluate(e: Expectation, client: ClusterClient, namespace: str, counter: NotificationCounter,
             settle_s: float) -> Observation:
    """Judge ``e``, waiting up to ``settle_s`` for it to come true (replicas take a moment)."""
    deadline = time.monotonic() + settle_s
    while True:
        seen = _EVALUATORS[e.kind](e, client, namespace, counter)
        if seen.ok or time.monotonic() >= deadline:
            return seen
        time.sleep(0.5)
