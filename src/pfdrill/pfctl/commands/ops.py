"""Single commands: ``collect``, ``analyze``, ``validate``, ``rotate``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from pfdrill.errors import InvalidInput, ProbeFailure
from pfdrill.pfctl import collect as collect_lib
from pfdrill.pfctl import dfacheck, trust, violations
from pfdrill.pfctl.commands.common import EnvOpt, ctx, emit


def collect(env: str | None = EnvOpt,
            output: Path | None = typer.Option(None, "--output", help="Tarball (.tar.gz).")) -> None:
    """Collect pod logs, ConfigMaps, events, Deployments and metrics into a tarball."""
    c = ctx(env)
    path = c.path(output or f"incident-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.tar.gz")
    manifest = collect_lib.collect(c, path)
    typer.echo(f"{path}: {len(manifest['files'])} files")
    for what, why in manifest["missing"].items():
        typer.echo(f"  not collected: {what}: {why}", err=True)


def analyze(violations_file: Path = typer.Option(..., "--violations", help="Decision log lines."),
            output: Path | None = typer.Option(None, "--output", help="Write the JSON here.")) -> None:
    """Summarise violation log lines by type, principal and rule (JSON)."""
    if not violations_file.is_file():
        raise InvalidInput("violations file does not exist", file=violations_file)
    text = violations_file.read_text(encoding="utf-8", errors="replace")
    summary = {"file": str(violations_file), **violations.summarise(text.splitlines())}
    if output is not None:
        output.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        typer.echo(f"{output}: {summary['total']} lines, {summary['parsed']} parsed")
    else:
        emit(summary)


def validate(dfa: Path = typer.Option(..., "--dfa", help="DFA artifact (dfa.json)."),
             sha256: str | None = typer.Option(None, "--sha256",
                                               help="Expected digest or .sha256 file "
                                                    "(default: <dfa>.sha256 beside it).")) -> None:
    """Check a DFA artifact: schema, sha256, determinism, reachability.

    Exit 1 when the artifact is invalid (a verdict, like ``sha256sum -c``); exit 2 only
    for bad usage, such as a file that does not exist.
    """
    if not dfa.is_file():
        raise InvalidInput("DFA artifact does not exist", file=dfa)
    try:
        result = dfacheck.validate(dfa, sha256)
    except InvalidInput as exc:
        raise ProbeFailure(f"INVALID: {exc}") from exc
    typer.echo(f"{result['file']}: {result['name']} OK")
    for name, detail in result["checks"].items():
        typer.echo(f"  {name}: {detail}")


def rotate(credentials: bool = typer.Option(False, "--credentials",
                                            help="Rotate the fabric's CA credentials."),
           retire_old: bool = typer.Option(False, "--retire-old",
                                           help="Drop the old CA key from the bundle afterwards."),
           env: str | None = EnvOpt) -> None:
    """Rotate credentials: new CA in the trust bundle, rolling restart, no failed decisions."""
    if not credentials:
        raise typer.BadParameter("say what to rotate: --credentials", param_hint="--credentials")
    r = trust.rotate(ctx(env), retire_old=retire_old)
    typer.echo(f"rotated: new CA {r['new_key']} (old {r['old_key']}); bundle "
               f"{', '.join(r['bundle_keys'])}; {r['decisions']} canary decisions, "
               f"{r['failed_decisions']} failed ({r['transport_retries']} retried after a dropped "
               f"connection)")


def register(app: typer.Typer) -> None:
    app.command("collect")(collect)
    app.command("analyze")(analyze)
    app.command("validate")(validate)
    app.command("rotate")(rotate)
