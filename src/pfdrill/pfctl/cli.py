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
import io
import json
import os
import sys
import time
from typing import TextIO

import typer

from pfdrill.console import run
from pfdrill.pfctl.commands import action, checks, config, incident, monitoring, ops, policy, status

app = typer.Typer(name="pfctl", help="Provability Fabric operator CLI.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
app.add_typer(status.app, name="status")
app.add_typer(incident.app, name="incident")
app.add_typer(incident.meeting, name="meeting")
app.add_typer(config.app, name="config")
app.add_typer(checks.certs, name="certs")
app.add_typer(checks.logs, name="logs")
app.add_typer(checks.health_app, name="health")
app.add_typer(checks.test, name="test")
app.add_typer(checks.security, name="security")
app.add_typer(policy.app, name="policy")
app.add_typer(policy.chaos, name="chaos")
app.add_typer(monitoring.app, name="monitoring")
app.add_typer(action.app, name="action")
ops.register(app)


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
    if not audit:
        return run(app, argv, prog="pfctl")
    args = list(sys.argv[1:] if argv is None else argv)
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
