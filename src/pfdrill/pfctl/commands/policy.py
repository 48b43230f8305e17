"""``pfctl policy update|review|add-validation|update-declass`` and ``pfctl chaos update``."""

from __future__ import annotations

from pathlib import Path

import typer

from pfdrill.errors import InvalidInput
from pfdrill.pfctl import chaos as chaos_lib
from pfdrill.pfctl import policyops
from pfdrill.pfctl.commands.common import EnvOpt, ctx

app = typer.Typer(help="Permit rules, validations, declassification, review.",
                  no_args_is_help=True)
chaos = typer.Typer(help="Chaos drill schedule.", no_args_is_help=True)


@app.command("update")
def update(file: Path = typer.Option(..., "--file", help="Permit rules (rules.yaml format)."),
           env: str | None = EnvOpt) -> None:
    """Apply new permit rules to the policy adapter and confirm it loaded them."""
    r = policyops.update_rules(ctx(env), file)
    typer.echo(f"permit rules: {r['rules']} rules, default {r['default']}; adapter {r['adapter']}")


@app.command("review")
def review(env: str | None = EnvOpt,
           output: Path | None = typer.Option(None, "--output", help="Write the review JSON here.")) -> None:
    """Review the live policy: config, permit rules, DFA, validations, findings."""
    doc = policyops.review(ctx(env))
    text = policyops.dump(doc)
    if output is not None:
        output.write_text(text)
        typer.echo(f"{output}: {len(doc['findings'])} finding(s)")
    else:
        typer.echo(text.rstrip())


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    raise InvalidInput(f"--enabled {text!r}: expected true or false")


@app.command("add-validation")
def add_validation(rule: str = typer.Option(..., "--rule", help=", ".join(policyops.VALIDATIONS)),
                   enabled: str = typer.Option("true", "--enabled"),
                   env: str | None = EnvOpt) -> None:
    """Turn a named validation on or off (it maps to a fabric setting)."""
    r = policyops.add_validation(ctx(env), rule, _bool(enabled))
    typer.echo(f"{r['rule']}: {'enabled' if r['enabled'] else 'disabled'} ({r['setting']}); "
               f"watcher {r['watcher']}")


@app.command("update-declass")
def update_declass(file: Path = typer.Option(..., "--file"), env: str | None = EnvOpt) -> None:
    """Validate and store declassification rules (ConfigMap policy-declass)."""
    r = policyops.update_declass(ctx(env), file)
    typer.echo(f"{r['rules']} declassification rule(s) in {r['configmap']}: {r['note']}")


@chaos.command("update")
def chaos_update(scenario: str = typer.Option(..., "--scenario"),
                 frequency: str = typer.Option(..., "--frequency",
                                               help=", ".join(chaos_lib.FREQUENCIES)),
                 env: str | None = EnvOpt) -> None:
    """Run a chaos scenario's drills at least this often (edits drills/schedule.yaml)."""
    r = chaos_lib.update(ctx(env), scenario, frequency)
    typer.echo(r["summary"])
