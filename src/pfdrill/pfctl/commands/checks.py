"""``pfctl certs verify``, ``logs analyze``, ``health check``, ``test``, ``security audit``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import typer

from pfdrill.errors import InvalidInput, ProbeFailure
from pfdrill.formats import duration
from pfdrill.model.fabric import FABRIC
from pfdrill.pfctl import health, policyops, suites, trust, violations
from pfdrill.pfctl.commands.common import EnvOpt, ctx, emit

certs = typer.Typer(help="The trust bundle.", no_args_is_help=True)
logs = typer.Typer(help="Fabric logs.", no_args_is_help=True)
health_app = typer.Typer(help="Health of the fabric and its services.", no_args_is_help=True)
test = typer.Typer(help="Non-disruptive verification suites.", invoke_without_command=True)
security = typer.Typer(help="Security posture.", no_args_is_help=True)


@certs.command("verify")
def certs_verify(env: str | None = EnvOpt,
                 bundle: Path | None = typer.Option(None, "--bundle",
                                                    help="Verify a bundle file instead.")) -> None:
    """Parse the trust bundle strictly and prove the CA's certificates verify against it.

    Exit 1 when the bundle does not verify (a verdict); exit 2 for bad usage.
    """
    if bundle is not None and not bundle.is_file():
        raise InvalidInput("trust bundle file does not exist", file=bundle)
    c = None if bundle is not None else ctx(env)
    try:
        if bundle is not None:
            r = trust.verify_file(bundle)
        else:
            assert c is not None
            _, parsed = trust.read_bundle(c)
            r = trust.verify_bundle(parsed, trust.context_ca(c))
    except InvalidInput as exc:
        raise ProbeFailure(f"INVALID: {exc}") from exc
    typer.echo(f"trust bundle OK: {len(r['keys'])} key(s) {', '.join(r['keys'])}; {r['issuer']}")


@logs.command("analyze")
def logs_analyze(since: str = typer.Option("1h", "--since", help="e.g. '2 hours ago', 30m."),
                 pattern: str = typer.Option("error|violation|reject", "--pattern",
                                             help="Regular expression (case-insensitive)."),
                 env: str | None = EnvOpt) -> None:
    """Fabric log lines since a time that match a pattern, summarised."""
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise InvalidInput(f"--pattern {pattern!r} is not a regular expression: {exc}") from None
    start = dt.datetime.now(dt.UTC) - dt.timedelta(
        seconds=duration.seconds(since, words=True, what="--since"))
    c = ctx(env)
    texts = {**c.logs.pod_logs(c.namespace, FABRIC.watcher_selector),
             **c.logs.pod_logs(c.namespace, FABRIC.adapter_selector)}
    emit(violations.search(texts, rx, start))


@health_app.command("check")
def health_check(env: str | None = EnvOpt,
                 full: bool = typer.Option(False, "--full", help="Also the services around it.")) -> None:
    """Deployments, config, DFA, trust bundle (and with --full: watcher, Prometheus, sink)."""
    checks = health.run(ctx(env), full)
    for ch in checks:
        mark = "ok  " if ch.ok and not ch.warning else ("warn" if ch.ok else "FAIL")
        typer.echo(f"{mark}  {ch.name}: {ch.detail}")
    bad = [f"{ch.name}: {ch.detail}" for ch in checks if not ch.ok]
    if bad:
        raise ProbeFailure(f"health check failed: {'; '.join(bad)}")


@test.callback()
def test_run(click_ctx: typer.Context, env: str | None = EnvOpt,
             suite: str | None = typer.Option(None, "--suite", help=", ".join(suites.SUITES))) -> None:
    """Run a verification suite (safe inside a drill: health and canary decisions only)."""
    if click_ctx.invoked_subcommand is not None:
        return
    if suite is None:
        raise typer.BadParameter("which suite? --suite NAME", param_hint="--suite")
    results = suites.run(ctx(env), suite)
    for r in results:
        typer.echo(f"{'PASS' if r.ok else 'FAIL'}  {r.name}: {r.detail}")
    bad = [f"{r.name}: {r.detail}" for r in results if not r.ok]
    if bad:
        raise ProbeFailure(f"suite {suite} failed: {'; '.join(bad)}")


@test.command("add")
def test_add(suite: str = typer.Option(..., "--suite"), name: str = typer.Option(..., "--test"),
             env: str | None = EnvOpt) -> None:
    """Add a known test to a suite."""
    suites.check_names(suite, name)
    added = ctx(env).store.add_test(suite, name)
    typer.echo(f"{name} {'added to' if added else 'already in'} suite {suite}")


@security.command("audit")
def security_audit(env: str | None = EnvOpt,
                   full: bool = typer.Option(False, "--full", help="Also logs and a canary.")) -> None:
    """Findings on the live policy, permit rules, DFA and trust bundle; exit 1 on a high one."""
    found = policyops.findings(ctx(env), deep=full)
    for f in found:
        typer.echo(f"{f['severity']:<6} {f['area']}: {f['message']}")
    if not found:
        typer.echo("no findings")
    high = [f"{f['area']}: {f['message']}" for f in found if f["severity"] == "high"]
    if high:
        raise ProbeFailure(f"security audit: {len(high)} high finding(s): {'; '.join(high)}")
