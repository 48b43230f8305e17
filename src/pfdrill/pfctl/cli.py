"""``pfctl``: the operator CLI the runbook calls. Parses, delegates, prints.

Every command module under :mod:`pfdrill.pfctl.commands` owns one group;
errors are :class:`~pfdrill.errors.PfdrillError` and become one line on
stderr and an exit code (:func:`pfdrill.console.run`): 2 for bad input,
unknown or malformed arguments included.

Inside a runbook sandbox (``$PFDRILL_AUDIT`` set), each invocation is also
appended to the audit journal with its arguments, exit status and the tail
of its stderr, the way the kubectl and curl wrappers record theirs.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import os
import sys
import time
from typing import TextIO

import typer

from pfdrill.console import run

# Command word → (module under pfdrill.pfctl.commands, its Typer). A runbook calls pfctl
# dozens of times per run, one process each: importing only the group a call names,
# not all of them, takes half the start-up of every call.
GROUPS: dict[str, tuple[str, str]] = {
    "status": ("status", "app"),
    "incident": ("incident", "app"),
    "meeting": ("incident", "meeting"),
    "config": ("config", "app"),
    "certs": ("checks", "certs"),
    "logs": ("checks", "logs"),
    "health": ("checks", "health_app"),
    "test": ("checks", "test"),
    "security": ("checks", "security"),
    "policy": ("policy", "app"),
    "chaos": ("policy", "chaos"),
    "monitoring": ("monitoring", "app"),
    "action": ("action", "app"),
}


def build_app(argv: list[str] | None = None) -> typer.Typer:
    """The pfctl app; with ``argv``, only the group its command word names (all for help,
    the top-level commands or anything unknown, so that errors list every command)."""
    app = typer.Typer(name="pfctl", help="Provability Fabric operator CLI.",
                      no_args_is_help=True, add_completion=False,
                      pretty_exceptions_enable=False)
    first = next((a for a in argv or () if not a.startswith("-")), None)
    names = [first] if first in GROUPS else list(GROUPS)
    for name in names:
        module, attr = GROUPS[name]
        found = importlib.import_module(f"pfdrill.pfctl.commands.{module}")
        app.add_typer(getattr(found, attr), name=name)
    if first not in GROUPS:
        from pfdrill.pfctl.commands import ops

        ops.register(app)
    return app


class _Tee(io.TextIOBase):
    """Keeps what is written to stderr (for the audit journal) and passes it on."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner
        self.kept: list[str] = []

    def write(self, s: str | bytes) -> int:
        # click may hand a text stream without .buffer bytes; keep the journal text.
        text = s.decode("utf-8", "replace") if isinstance(s, bytes) else s
        self.kept.append(text)
        return self.inner.write(text)

    def flush(self) -> None:
        self.inner.flush()


def main(argv: list[str] | None = None) -> int:
    audit = os.environ.get("PFDRILL_AUDIT")
    args = list(sys.argv[1:] if argv is None else argv)
    app = build_app(args)
    if not audit:
        return run(app, args, prog="pfctl")
    started, t0 = dt.datetime.now(dt.UTC).isoformat(), time.monotonic()
    tee = _Tee(sys.stderr)
    sys.stderr = tee
    try:
        rc = run(app, args, prog="pfctl")
    finally:
        sys.stderr = tee.inner
    record = {"phase": "end", "tool": "pfctl", "argv": args, "rc": rc, "started": started,
              "duration": time.monotonic() - t0, "stderr": "".join(tee.kept)[-2000:],
              "cmd": os.environ.get("PFDRILL_CMD_INDEX", ""), "pid": os.getpid()}
    with open(audit, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return rc


def entrypoint() -> None:
    sys.exit(main())
