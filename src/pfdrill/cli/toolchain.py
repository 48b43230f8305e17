"""``pfdrill toolchain``: build and inspect the cluster binaries."""

from __future__ import annotations

import dataclasses
import time

import typer

from pfdrill.cli.output import JsonOpt, emit

app = typer.Typer(help="Build (from Go modules) and inspect the embedded cluster's binaries.",
                  no_args_is_help=True)


@app.command("ensure")
def ensure_cmd(
    only: list[str] = typer.Option([], "--only", help="Build only these components "
                                   "(kubernetes, etcd, kwok, kind, metrics-server; prometheus, "
                                   "the in-cluster Prometheus, is built only when named)."),
    as_json: bool = JsonOpt,
) -> None:
    """Build every missing binary; a second call does nothing."""
    from pfdrill.errors import InvalidInput
    from pfdrill.toolchain import build

    known = {c.value: c for c in build.Component}
    unknown = [o for o in only if o not in known]
    if unknown:
        raise InvalidInput(f"unknown component(s) {', '.join(unknown)}: expected {', '.join(known)}")
    components = tuple(known[o] for o in only) or build.CLUSTER
    started = time.monotonic()
    tc = build.ensure(components=components, progress=lambda m: typer.echo(m, err=True))
    seconds = time.monotonic() - started
    emit(as_json, {"root": str(tc.root), "seconds": round(seconds, 1), "versions": tc.versions.to_dict(),
                   "binaries": {n: e.path for n, e in sorted(tc.entries.items())}},
         f"toolchain ready in {seconds:.1f}s: {tc.root}")


@app.command("status")
def status_cmd(verify: bool = typer.Option(False, "--verify", help="Re-hash every binary."),
               as_json: bool = JsonOpt) -> None:
    """List the binaries, their versions, and whether they are built."""
    from pfdrill.toolchain import build

    rows = build.status(deep=verify)

    def table() -> None:
        typer.echo(f"{'binary':<24} {'version':<10} {'state':<8} sha256")
        for r in rows:
            state = "ok" if r.present else "missing"
            typer.echo(f"{r.name:<24} {r.version:<10} {state:<8} {r.sha256[:16]}")

    emit(as_json, [dataclasses.asdict(r) for r in rows], table)
    if not all(r.present for r in rows):
        raise typer.Exit(1)
