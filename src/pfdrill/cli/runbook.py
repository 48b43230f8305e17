"""``pfdrill runbook``: parse a runbook, or run it against the drill environment and print coverage."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from pfdrill.cli.output import JsonOpt, emit
from pfdrill.model.fabric import RuntimeFiles

app = typer.Typer(help="Parse runbooks and run them against the drill environment.",
                  no_args_is_help=True)

SectionOpt = typer.Option([], "--section", "-s",
                          help="Section to run (heading path or its tail; repeatable). "
                               "Default: the whole runbook.")


def _observability(cluster: str) -> dict[str, str]:
    """Endpoints of the cluster's observability stack (``pfdrill obs up``), if it runs."""
    from pfdrill.detect import pipeline
    from pfdrill.obs import rules

    ep = pipeline.status(cluster).endpoints
    if ep is None:
        return {}
    out = {"prometheus_url": ep.prometheus_url, "alertmanager_url": ep.alertmanager_url or "",
           "sink_url": ep.sink_url or ""}
    if ep.rules_dir:
        out["rules_file"] = str(Path(ep.rules_dir) / rules.RENDERED_FILE)
    return out


@app.command("parse")
def parse_cmd(
    runbook: Path = typer.Argument(..., help="Markdown runbook."),
    section: list[str] = SectionOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the parsed runbook as JSON."),
) -> None:
    """List sections and commands with their intent (nothing runs)."""
    from pfdrill.runbook import intent, runner

    book, chosen = runner.load(runbook, section)
    if as_json:
        typer.echo(json.dumps(book.to_dict(), indent=2, ensure_ascii=False))
        return
    typer.echo(f"{book.title or book.source} ({book.encoding}, {len(book.commands)} commands)")
    for note in book.notes:
        typer.echo(f"  note: {note}")
    for s in chosen:
        if not s.commands and not s.directives and not s.not_run:
            continue
        typer.echo(s.name)
        for c in s.commands:
            cls = intent.classify(c.text)
            tag = " (bounded)" if intent.streams(c.text) else ""
            typer.echo(f"  {c.line:>4}  {cls.intent.value:<13} {c.short(70)}{tag}")
        for d in s.directives:
            typer.echo(f"  {d.line:>4}  expectation   {d.text}")
        for b in s.not_run:
            typer.echo(f"  {b.line:>4}  not run       {b.summary()}")


@app.command("check")
def check_cmd(
    runbook: Path = typer.Argument(..., help="Markdown runbook."),
    section: list[str] = SectionOpt,
    severity: str = typer.Option("SEV-1", "--severity", help="$SEVERITY the runbook sees."),
    incident_id: str = typer.Option("", "--incident-id", help="$INCIDENT_ID (default: generated)."),
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig",
                                           help="Drill cluster kubeconfig (default: the pfdrill stack)."),
    context: str | None = typer.Option(None, "--context", help="kubeconfig context."),
    cluster: str = typer.Option("pfdrill", "--cluster", help="pfdrill stack name (kwok)."),
    namespace: str | None = typer.Option(None, "--namespace", help="Fabric namespace."),
    sink_url: str = typer.Option("", "--sink-url", envvar="PFDRILL_SINK_URL",
                                 help="Notification sink base URL ($X_WEBHOOK → <sink>/<channel>)."),
    prometheus_url: str = typer.Option("", "--prometheus-url", envvar="PFDRILL_PROMETHEUS_URL"),
    rules_file: str = typer.Option("", "--rules-file", envvar="PFCTL_RULES_FILE",
                                   help="Live alert rules file pfctl monitoring edits."),
    inputs: Path | None = typer.Option(None, "--inputs",
                                       help="Directory of operator-written files to put in the sandbox."),
    stream_seconds: float = typer.Option(3.0, "--stream-seconds",
                                         help="How long logs -f / port-forward run before being stopped."),
    keep_sandbox: bool = typer.Option(False, "--keep-sandbox", help="Keep the sandbox directory."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the run as JSON here."),
    config: Path | None = typer.Option(None, "--config", help="pfdrill config (allow-list)."),
    runtime: Path | None = typer.Option(None, "--runtime-dir",
                                        help="kwok process runtime state (Service addresses)."),
    wait: float = typer.Option(0.0, "--wait", help="Seconds to wait for a drill holding the "
                               "lease (default: refuse at once, exit 3)."),
    as_json: bool = JsonOpt,
) -> None:
    """Run the runbook against the drill environment; print the coverage table.

    Like a drill, the check takes the drill Lease and a snapshot first and restores
    it afterwards (also on failure and Ctrl-C): ConfigMaps, Secrets, replicas, the
    live alert rules and published baselines are as they were before.
    Exits 1 when a command that should work failed or a stated expectation did not hold.
    """
    import dataclasses
    import uuid

    from pfdrill.cluster.client import KubeClient
    from pfdrill.drill import claim
    from pfdrill.drill.snapshot import SnapshotStore
    from pfdrill.errors import DrillFailed
    from pfdrill.fabric import readiness
    from pfdrill.runbook import coverage, runner
    from pfdrill.runbook.inputs import DrillVars, Environment, Options
    from pfdrill.settings import paths
    from pfdrill.settings.config import load_config
    from pfdrill.settings.paths import Paths

    cfg = load_config(config)
    state = Paths.from_env()
    runner.load(runbook, section)  # every input error before touching the cluster
    drill = DrillVars(severity=severity,
                      incident_id=incident_id or f"INC-{uuid.uuid4().hex[:8].upper()}")
    from pfdrill.stack.lifecycle import Stack

    if kubeconfig is None:
        info = Stack(name=cluster, config=cfg).info()
        kubeconfig, context = Path(info.kubeconfig), context or info.context
        runtime_dir = info.runtime_dir
    else:
        # <state>/clusters/<name>/kubeconfig is a pfdrill kwok cluster: its process
        # runtime keeps Service addresses in <state>/runtime/<name>.
        owner = kubeconfig.resolve().parent
        guess = owner.parent.parent / "runtime" / owner.name
        runtime_dir = str(guess) if owner.parent.name == "clusters" and (
            RuntimeFiles(guess).services.is_file()) else ""
        cluster = owner.name if runtime_dir else cluster
    if runtime:
        runtime_dir = str(runtime)
    client = KubeClient(kubeconfig, context)
    obs = _observability(cluster)
    env = Environment(kubeconfig=str(kubeconfig), context=client.context,
                      namespace=namespace or cfg.namespace,
                      sink_url=sink_url or obs.get("sink_url", ""),
                      prometheus_url=prometheus_url or cfg.prometheus_url or obs.get(
                          "prometheus_url", ""),
                      alertmanager_url=cfg.alertmanager_url or obs.get("alertmanager_url", ""),
                      rules_file=rules_file or obs.get("rules_file", ""), runtime_dir=runtime_dir,
                      schedule_file=str(paths.schedule_file() or ""))
    opts = Options(stream_seconds=stream_seconds, inputs=str(inputs) if inputs else "",
                   keep_sandbox=keep_sandbox)
    with claim.Claim(client, dataclasses.replace(cfg, namespace=env.namespace),
                     SnapshotStore(state.state / "snapshots"),
                     run_id=f"runbook-check-{drill.incident_id}",
                     keepers=claim.keepers_for(cluster, cfg, state, client=client,
                                               rules_file=env.rules_file,
                                               sink_url=env.sink_url), wait_s=wait,
                     pod_http=readiness.pod_http(client, runtime_dir or None),
                     progress=lambda m: typer.echo(f"[safety] {m}", err=True)):
        run = runner.check(runbook, env, client, cfg, drill, section, opts)
    emit(as_json, run.to_dict(), coverage.table(run))
    if keep_sandbox:
        typer.echo(f"sandbox kept: {run.sandbox}", err=True)
    if output is not None:
        output.write_text(json.dumps(run.to_dict(), indent=2, ensure_ascii=False) + os.linesep)
    problems = coverage.failures(run)
    if problems:
        for p in problems:
            typer.echo(f"FAILED: {p}", err=True)
        raise DrillFailed(f"{len(problems)} runbook step(s) failed; first: {problems[0]}")
