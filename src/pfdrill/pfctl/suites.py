"""``pfctl test --suite`` and ``pfctl test add``: verification suites that are safe inside a drill.

A suite is a list of named tests; each test only reads and sends canary
requests — never a fault. ``incident-recovery`` checks fabric health and
that a canary set of decisions behaves as the current enforcement mode says.
Tests added with ``test add`` join their suite from then on; only tests
this registry knows can be added (a test name nobody implements would be a
test that cannot fail).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pfdrill.errors import InvalidInput
from pfdrill.fabric.authority import Authority
from pfdrill.fabric.policy import ConfigRefused, EnforcementMode, PolicyConfig
from pfdrill.model.fabric import FABRIC
from pfdrill.pfctl import canary, health, trust
from pfdrill.pfctl.context import Context


@dataclasses.dataclass(frozen=True)
class TestResult:
    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _mode(ctx: Context) -> EnforcementMode:
    try:
        return PolicyConfig.parse(ctx.client.get_configmap(
            ctx.namespace, FABRIC.policy_config)).enforcement_mode
    except ConfigRefused as exc:
        raise InvalidInput(f"policy-config is invalid: {exc}") from None


def _authority(ctx: Context) -> Authority:
    ca = trust.context_ca(ctx)
    if ca is None:
        raise InvalidInput(f"no CA for context {ctx.env.context!r}: cannot sign canary requests")
    return ca


def _watcher_up(ctx: Context) -> bool:
    return ctx.client.get_deployment(ctx.namespace, FABRIC.watcher).ready > 0


def fabric_health(ctx: Context) -> TestResult:
    bad = [c for c in health.core(ctx) if not c.ok]
    return TestResult("fabric_health", not bad,
                      "; ".join(f"{c.name}: {c.detail}" for c in bad) or "all core checks pass")


def canary_decisions(ctx: Context) -> TestResult:
    mode = _mode(ctx)
    if not _watcher_up(ctx):
        return TestResult("canary_decisions", False, "no ready sidecar-watcher to ask")
    results = canary.run(ctx.watcher_url(), canary.canaries(_authority(ctx)), mode)
    bad = [r for r in results if not r.ok]
    detail = "; ".join(f"{r.name}: got {r.outcome}, expected {r.expected_outcome}" for r in bad)
    return TestResult("canary_decisions", not bad,
                      detail or f"{len(results)} canaries answered as {mode.value} requires")


def enforcement_recovered(ctx: Context) -> TestResult:
    mode = _mode(ctx)
    if mode is not EnforcementMode.ENFORCE:
        return TestResult("policy_enforcement_failure_recovery", False,
                          f"enforcement_mode is {mode.value}, not enforce")
    inner = canary_decisions(ctx)
    return TestResult("policy_enforcement_failure_recovery", inner.ok, inner.detail)


def reject_storm(ctx: Context) -> TestResult:
    mode = _mode(ctx)
    if not _watcher_up(ctx):
        return TestResult("high_reject_rate_handling", False, "no ready sidecar-watcher to ask")
    violating = [v for v in canary.canaries(_authority(ctx)) if not v.expect_allow] * 20
    results = canary.run(ctx.watcher_url(), violating, mode)
    bad = [r for r in results if not r.ok]
    still = health.core(ctx)[0]
    ok = not bad and still.ok
    return TestResult("high_reject_rate_handling", ok,
                      f"{len(results) - len(bad)}/{len(results)} violating requests answered as "
                      f"{mode.value} requires; watcher {still.detail}")


TESTS: dict[str, Callable[[Context], TestResult]] = {
    "fabric_health": fabric_health,
    "canary_decisions": canary_decisions,
    "policy_enforcement_failure_recovery": enforcement_recovered,
    "high_reject_rate_handling": reject_storm,
}
SUITES: dict[str, tuple[str, ...]] = {
    "incident-recovery": ("fabric_health", "canary_decisions"),
    "stress": ("high_reject_rate_handling",),
    "smoke": ("fabric_health",),
}


def check_names(suite: str, test: str | None = None) -> None:
    if suite not in SUITES:
        raise InvalidInput(f"unknown suite {suite!r} (suites: {', '.join(SUITES)})")
    if test is not None and test not in TESTS:
        raise InvalidInput(f"unknown test {test!r} (tests: {', '.join(TESTS)})")


def run(ctx: Context, suite: str) -> list[TestResult]:
    check_names(suite)
    names = list(dict.fromkeys([*SUITES[suite], *ctx.store.tests(suite)]))
    return [TESTS[n](ctx) for n in names if n in TESTS]
