"""``pfdrill gameday``: drills played by people (parse, delegate, print).

``run`` hosts the game day (and its dashboard) in this terminal; every other
command talks to it from another terminal through its control API
(:mod:`pfdrill.gameday.control`), or works on its directory (``env``,
``action``, ``report``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from pfdrill.cli.output import JsonOpt, emit
from pfdrill.model.gameday import Action, Command, Role

app = typer.Typer(help="Game days: inject when the room is ready, watch people respond, "
                       "write the after-action report.", no_args_is_help=True)
action_app = typer.Typer(help="Follow-up action items of a game day.", no_args_is_help=True)
app.add_typer(action_app, name="action")

ReportsOpt = typer.Option(Path("reports"), "--reports", help="Where reports/<game-day>/ go.")
IdOpt = typer.Option(None, "--id", help="Game day id (default: the running one, else the newest).")


@app.command("run")
def run(file: Path = typer.Argument(..., help="A drill file with a gameday: block."),
        reports: Path = ReportsOpt,
        port: int = typer.Option(0, "--port", help="Dashboard port on 127.0.0.1 (0: any free)."),
        provider: str = typer.Option("kwok", "--provider", "-p"),
        name: str = typer.Option("pfdrill", "--name", help="Cluster name (kwok/kind)."),
        kubeconfig: Path | None = typer.Option(None, "--kubeconfig"),
        context: str | None = typer.Option(None, "--context"),
        config: Path | None = typer.Option(None, "--config", help="pfdrill config file."),
        as_json: bool = JsonOpt) -> None:
    """Host a game day: the dashboard, the facilitator's controls, the measures; resumes an
    unfinished one of the same file (its running inject included)."""
    from pfdrill.drill import wiring
    from pfdrill.gameday import session

    factory = wiring.StackEnvironmentFactory.from_options(
        provider=provider, name=name, kubeconfig=kubeconfig, context=context, config=config,
        progress=lambda m: typer.echo(m, err=True))
    day = session.open_gameday(file, factory)

    def started(g: session.GameDay, url: str) -> None:
        # The room needs these addresses while the day runs: on stderr when stdout is JSON.
        tokens = g.dir.tokens()
        state = g.state
        for line in (f"{'resumed' if g.resumed else 'game day'} {state.id}: {state.plan.title}",
                     f"  responders:  {url}",
                     f"  observers:   {url}?token={tokens[Role.OBSERVER]}",
                     f"  facilitator: {url}?token={tokens[Role.FACILITATOR]}",
                     f"  responders' shell: eval \"$(pfdrill gameday env --id {state.id})\"",
                     f"  injects: {', '.join(state.plan.names)} (pfdrill gameday inject NAME)"):
            typer.echo(line, err=as_json)

    state = day.run(reports=reports, port=port, started=started)
    detached = day.conductor.detached
    aar = reports / state.id / "aar.html"
    lines = [f"  {st.name}: {st.status.value}" + (f" ({st.ended})" if st.ended else "")
             for st in state.injects]
    lines.append(f"detached: run `pfdrill gameday run {file}` to carry on" if detached
                 else f"after-action report: {aar}")
    emit(as_json, {"id": state.id, "detached": detached,
                   "injects": [{"name": st.name, "status": st.status.value, "ended": st.ended}
                               for st in state.injects],
                   "report": None if detached else str(aar)}, "\n".join(lines))


@app.command("validate")
def validate(file: Path = typer.Argument(...), as_json: bool = JsonOpt) -> None:
    """Check a game day file (drills and gameday: block); no cluster."""
    from pfdrill.drill import suitefile, wiring
    from pfdrill.gameday import plan
    from pfdrill.model.drill import SuiteSpec

    gplan = plan.load(file)
    suite = SuiteSpec(name=gplan.name, file=gplan.file,
                      drills=tuple(i.drill for i in gplan.injects))
    suitefile.check(suite, wiring.fault_catalog(), wiring.RunbookChecker())
    emit(as_json, {"file": str(file), "title": gplan.title,
                   "injects": [{"title": i.title, "drill": i.name} for i in gplan.injects]},
         f"{file}: game day {gplan.title!r}, {len(gplan.injects)} inject(s): "
         + ", ".join(f"{i.title}={i.name}" for i in gplan.injects))


def _send(cmd: Command, as_json: bool, role: Role = Role.FACILITATOR) -> None:
    from pfdrill.gameday import control

    reply = control.send(cmd, role=role)
    emit(as_json, {"action": cmd.action.value, "reply": reply}, reply)


@app.command("inject")
def inject(drill: str = typer.Argument(..., help="The drill to play now."),
           as_json: bool = JsonOpt) -> None:
    """Start an inject: preflight, the fault, then the team responds."""
    _send(Command(Action.INJECT, drill=drill), as_json)


@app.command("pause")
def pause(as_json: bool = JsonOpt) -> None:
    """Hold the running inject's clock."""
    _send(Command(Action.PAUSE), as_json)


@app.command("resume")
def resume(as_json: bool = JsonOpt) -> None:
    """Start the clock again."""
    _send(Command(Action.RESUME), as_json)


@app.command("extend")
def extend(seconds: float = typer.Argument(...),
           measure: str = typer.Option("", "--measure", help="detection, declaration, "
                                       "mitigation or recovery (default: all)."),
           as_json: bool = JsonOpt) -> None:
    """Give the team more time."""
    _send(Command(Action.EXTEND, seconds=seconds, measure=measure), as_json)


@app.command("hint")
def hint(text: str = typer.Argument("", help="A hint of your own."),
         number: int | None = typer.Option(None, "--number", "-n",
                                           help="A prepared hint of the inject, from 1."),
         as_json: bool = JsonOpt) -> None:
    """Tell the responders something."""
    _send(Command(Action.HINT, text=text, hint=number), as_json)


@app.command("reveal")
def reveal(drill: str = typer.Argument("", help="Default: the running inject."),
           as_json: bool = JsonOpt) -> None:
    """Show the responders an inject's expected severity, alerts and runbook sections."""
    _send(Command(Action.REVEAL, drill=drill), as_json)


@app.command("rollback")
def rollback(as_json: bool = JsonOpt) -> None:
    """The root cause is fixed: take the fault out (the team then recovers)."""
    _send(Command(Action.ROLLBACK), as_json)


@app.command("stop")
def stop(as_json: bool = JsonOpt) -> None:
    """End the running inject (restored)."""
    _send(Command(Action.STOP), as_json)


@app.command("abort")
def abort(as_json: bool = JsonOpt) -> None:
    """Abort the running inject now (restored)."""
    _send(Command(Action.ABORT), as_json)


@app.command("end")
def end(as_json: bool = JsonOpt) -> None:
    """End the game day (a running inject is stopped and restored first) and write the report."""
    _send(Command(Action.END), as_json)


@app.command("detach")
def detach(as_json: bool = JsonOpt) -> None:
    """Stop the game day's process, leaving a running inject held for `gameday run` to resume."""
    _send(Command(Action.DETACH), as_json)


@app.command("note")
def note(text: str = typer.Argument(...),
         author: str = typer.Option("", "--author", help="Who noticed."),
         as_json: bool = JsonOpt) -> None:
    """An observer's note on the timeline."""
    _send(Command(Action.NOTE, text=text, author=author), as_json, role=Role.OBSERVER)


@app.command("status")
def status(as_json: bool = JsonOpt) -> None:
    """The running game day: injects and their measures."""
    from pfdrill.gameday import control

    got = control.state()
    if as_json:
        emit(True, got, "")
        return
    gd = got.get("gameday") or {}
    typer.echo(f"{gd.get('id')}: {gd.get('plan', {}).get('title')} — {gd.get('status')}"
               + (f", running {gd['current']}" if gd.get("current") else ""))
    for st in gd.get("injects", []):
        at = st.get("injected_at") or 0.0
        reached = ", ".join(f"{m['measure']} +{m['at'] - at:.1f} s"
                            for m in st.get("milestones", []))
        typer.echo(f"  {st['name']}: {st['status']}" + (f" [{reached}]" if reached else ""))


@app.command("env")
def env(game_id: str | None = IdOpt, as_json: bool = JsonOpt) -> None:
    """The responders' shell: eval "$(pfdrill gameday env)" (kubectl, pfctl, webhooks)."""
    from pfdrill.gameday import session, workspace

    ws = workspace.load(session.find(game_id))
    if ws is None:
        from pfdrill.errors import InvalidInput

        raise InvalidInput("this game day has no responders' workspace (yet)")
    exports = ws.exports()
    emit(as_json, {"exports": exports}, exports)


@action_app.command("add")
def action_add(title: str = typer.Option(..., "--title"), owner: str = typer.Option(..., "--owner"),
               due: str = typer.Option(..., "--due", help="YYYY-MM-DD."),
               inject_name: str = typer.Option("", "--inject", help="The inject it came from."),
               game_id: str | None = IdOpt, as_json: bool = JsonOpt) -> None:
    """Record a follow-up (owner, due date); `pfctl action close ID` closes it."""
    from pfdrill.gameday import session

    gdir = session.find(game_id)
    item = session.actions(gdir).add(title, owner, due, source=f"gameday:{gdir.path.name}",
                                     inject=inject_name)
    emit(as_json, {"id": item.id, "owner": item.owner, "due": item.due, "title": item.title},
         f"{item.id} for {item.owner}, due {item.due}: {item.title}")


@action_app.command("list")
def action_list(game_id: str | None = IdOpt, as_json: bool = JsonOpt) -> None:
    """The game day's action items and their state."""
    from pfdrill.gameday import session

    gdir = session.find(game_id)
    items = session.actions(gdir).items(f"gameday:{gdir.path.name}")
    emit(as_json, [{"id": i.id, "status": i.status, "due": i.due, "owner": i.owner,
                    "title": i.title} for i in items],
         "\n".join(f"{i.id}  {i.status:<6}  due {i.due}  {i.owner}: {i.title}" for i in items))


@app.command("report")
def report(game_id: str | None = IdOpt, reports: Path = ReportsOpt,
           as_json: bool = JsonOpt) -> None:
    """(Re)write the after-action report (HTML, Markdown, JSON), action items as they stand."""
    from pfdrill.gameday import session

    out = session.report(session.find(game_id), reports)
    emit(as_json, {"report": str(out / "aar.html")}, f"after-action report: {out / 'aar.html'}")
