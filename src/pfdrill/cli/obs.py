"""``pfdrill obs``: the observability stack (Prometheus, Alertmanager, notification sink)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pfdrill.cli.output import JsonOpt, emit

app = typer.Typer(help="Start, stop and inspect Prometheus + Alertmanager + the sink.",
                  no_args_is_help=True)

NameOpt = typer.Option("pfdrill", "--name", "--cluster", help="Cluster the stack belongs to.")
ProfileOpt = typer.Option("drill", "--profile", help="Timing profile: drill (seconds) or production.")
ConfigOpt = typer.Option(None, "--config", help="pfdrill config file. Default: $PFDRILL_CONFIG.")


@app.command("up")
def up(name: str = NameOpt, profile: str = ProfileOpt,
       targets: Path | None = typer.Option(
           None, "--targets", help="Prometheus file-SD targets (default: the process runtime's)."),
       rules: Path | None = typer.Option(None, "--rules", help="Rule source (default: deploy/alerts/source/rules.yml)."),
       config: Path | None = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Start the stack detached (idempotent) and print its endpoints.

    With ``prometheus_url`` in the pfdrill config (kind, existing clusters) only
    the sink is started and the in-cluster servers are checked instead.
    """
    from pfdrill.detect import pipeline
    from pfdrill.model.sla import TimingProfile
    from pfdrill.obs.api import PrometheusAPI
    from pfdrill.settings import Paths, load_config

    TimingProfile.parse(profile)
    cfg = load_config(config)
    if cfg.prometheus_url:
        with PrometheusAPI(cfg.prometheus_url) as prom:
            loaded = prom.rule_names()  # unreachable: ServiceUnavailable naming the URL
        sink = pipeline.start_sink(pipeline.sink_dir(name))
        ours = sum(1 for r in loaded if r.startswith("pfdrill:"))
        emit(as_json, {"prometheus_url": cfg.prometheus_url, "alertmanager_url": cfg.alertmanager_url,
                       "sink_url": sink.url, "local": False, "recording_rules": ours},
             f"prometheus:   {cfg.prometheus_url} (in-cluster, not started by pfdrill; "
             f"{ours} pfdrill recording rules loaded)\n"
             f"alertmanager: {cfg.alertmanager_url or '-'} (route it to {sink.url}/alertmanager/<severity>)\n"
             f"sink:         {sink.url}")
        return
    ep = pipeline.up(name, profile, targets_file=targets, paths=Paths.from_env(), rules_source=rules)
    emit(as_json, ep.to_dict(), f"prometheus:   {ep.prometheus_url}\n"
         f"alertmanager: {ep.alertmanager_url}\nsink:         {ep.sink_url}\n"
         f"profile:      {ep.profile}\nrules:        {ep.rules_dir}\ntargets:      {ep.targets_file}")


@app.command("down")
def down(name: str = NameOpt, as_json: bool = JsonOpt) -> None:
    """Stop Prometheus, Alertmanager and the sink; leave no process or port behind."""
    from pfdrill.detect import pipeline

    stopped = pipeline.down(name)
    emit(as_json, {"stopped": stopped},
         f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command("status")
def status(name: str = NameOpt, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show each component's pid, URL and readiness; exit 1 unless all are ready."""
    from pfdrill.detect import pipeline

    st = pipeline.status(name)
    if as_json:
        typer.echo(json.dumps(st.to_dict(), indent=2))
    else:
        for c in st.components:
            state = "ready" if c.ready else ("running, not ready" if c.pid else "stopped")
            typer.echo(f"{c.name:<13} {state:<19} pid={c.pid or '-':<8} {c.url or ''}")
        if st.endpoints:
            typer.echo(f"profile:      {st.endpoints.profile}")
            typer.echo(f"rules:        {st.endpoints.rules_dir}")
    if not st.up:
        raise typer.Exit(1)


@app.command("reload")
def reload(name: str = NameOpt, config: Path | None = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Check the live rules with promtool and make Prometheus re-read them."""
    from pfdrill.obs import stack
    from pfdrill.settings import load_config

    ep = stack.resolve(load_config(config), name)
    stack.reload(ep)
    emit(as_json, {"reloaded": ep.rules_dir or ep.prometheus_url},
         f"rules reloaded ({ep.rules_dir or ep.prometheus_url})")


@app.command("alertmanager-config")
def alertmanager_config(
        sink_url: str = typer.Option(..., "--sink-url", help="Base URL of the sink as the cluster reaches it."),
        profile: str = ProfileOpt, as_json: bool = JsonOpt) -> None:
    """Print an Alertmanager config routing by severity to the sink, checked by amtool."""
    import tempfile

    from pfdrill.obs import amtool
    from pfdrill.obs import config as obs_config
    from pfdrill.obs import profile as profiles

    with tempfile.TemporaryDirectory(prefix="pfdrill-am-") as tmp:
        path = obs_config.dump(obs_config.alertmanager(profiles.get(profile), sink_url),
                               Path(tmp) / "alertmanager.yml")
        amtool.check_config(path)
        text = path.read_text(encoding="utf-8")
    if as_json:
        import yaml

        emit(True, yaml.safe_load(text), "")
    else:
        typer.echo(text, nl=False)
