"""Running a runbook's commands for real, one bash process per command, and judging each.

A :class:`Session` owns one sandbox (:mod:`pfdrill.runbook.sandbox`) for its
lifetime, so a drill can run the mitigation sections, later the recovery
sections, then the post-incident ones, and the incident store, the scratch
git repository, the working directory and shell variables carry over
between them as they would in a responder's terminal::

    with executor.Session(book, env, client, DrillVars(severity="SEV-1")) as s:
        run = s.run(selection.select(book, ["Immediate Mitigation"]))
    print(coverage.table(run))

Each command runs as ``bash --noprofile --norc`` in its own process group,
with the variables and working directory the previous command left; its
exit status, ``PIPESTATUS``, bounded stdout/stderr, start time, duration and
the tool calls it made (:mod:`pfdrill.runbook.toolwrap`) become a
:class:`~pfdrill.model.runbook.CommandResult`, judged by
:mod:`pfdrill.runbook.judge`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import InvalidInput
from pfdrill.model.evidence import CommandOutcome
from pfdrill.model.header import RecordHeader
from pfdrill.model.runbook import (
    Command,
    CommandResult,
    EffectCheck,
    ExpectationResult,
    Intent,
    Runbook,
    RunbookRun,
    Section,
)
from pfdrill.proc import lineage
from pfdrill.runbook import audit, expect, intent, judge, parser, sandbox, verify
from pfdrill.runbook.inputs import WEBHOOKS, DrillVars, Environment, Options
from pfdrill.runbook.lexer import simple_commands
from pfdrill.runbook.observer import FabricObserver, KubectlLogObserver

_PROLOGUE = r"""# pfdrill: restore the shell state the previous command left
if [ -f "$PFDRILL_DIR/state.sh" ]; then . "$PFDRILL_DIR/state.sh" >/dev/null 2>&1; fi
cd "$(cat "$PFDRILL_DIR/cwd")" 2>/dev/null || cd "$PFDRILL_SANDBOX"
__pfdrill_exit() {
  printf '%s\n%s\n' "$1" "$2" > "$PFDRILL_DIR/out/$PFDRILL_CMD_INDEX.status"
  { declare -p $(compgen -v | grep -vxF -f "$PFDRILL_DIR/internal-vars" \
      | grep -v -e '^__pfdrill' -e '^PFDRILL_' -e '^BASH' -e '^FUNCNAME$' -e '^PIPESTATUS$') \
      2>/dev/null; declare -f; } > "$PFDRILL_DIR/state.sh.new" 2>/dev/null
  mv -f "$PFDRILL_DIR/state.sh.new" "$PFDRILL_DIR/state.sh"
  pwd > "$PFDRILL_DIR/cwd"
}
trap '__pfdrill_exit "$?" "${PIPESTATUS[*]}"' EXIT
"""
_PROLOGUE_LINES = _PROLOGUE.count("\n")
_FILE_FLAGS = ("--file", "-f")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _read_bounded(path: Path, limit: int) -> tuple[str, bool]:
    if not path.exists():
        return "", False
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= limit:
            data, cut = fh.read(), False
        else:
            head = fh.read(limit // 2)
            fh.seek(size - limit // 2)
            data = head + b"\n[... output cut by pfdrill ...]\n" + fh.read()
            cut = True
    return data.decode("utf-8", "replace"), cut


def _snapshot(root: Path) -> dict[str, tuple[float, int]]:
    out: dict[str, tuple[float, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", sandbox.PFDRILL_DIR)]
        for f in filenames:
            p = Path(dirpath) / f
            try:
                st = p.stat()
            except OSError:
                continue
            out[str(p.relative_to(root))] = (st.st_mtime, st.st_size)
    return out


def missing_inputs(command: Command, cwd: Path) -> list[str]:
    """Operator-written files a pfctl call needs (``--file hotfix-policy.yaml``) that are absent.

    Only literal names count: a name built with ``$(date ...)`` is the
    runbook's own business and judged when it runs.
    """
    missing = []
    for cmd in simple_commands(command.text):
        if not cmd.name.endswith("pfctl"):
            continue
        args = cmd.args
        for i, a in enumerate(args):
            name, eq, inline = a.partition("=")
            if name not in _FILE_FLAGS:
                continue
            value = inline if eq else (args[i + 1] if i + 1 < len(args) else "")
            if value and not re.search(r"[$`*?]", value) and not (cwd / value).exists():
                missing.append(value)
    return missing


class AuditCounter:
    """Notifications delivered per channel, from the curl calls the audit journal saw."""

    def __init__(self) -> None:
        self.delivered: dict[str, int] = {}

    def add(self, calls: Iterable[audit.Call]) -> None:
        for call in calls:
            rec = call.record
            if rec.tool != "curl" or rec.http_status is None or not 200 <= rec.http_status < 300:
                continue
            for var, channel in WEBHOOKS.items():
                if any(f"${var}" in a for a in rec.argv):
                    self.delivered[channel] = self.delivered.get(channel, 0) + 1

    def count(self, channel: str) -> int:
        return self.delivered.get(channel, 0)


class SinkCounter:
    """Notifications the sink itself journaled per channel since the session began."""

    def __init__(self, url: str, since: float) -> None:
        self.url = url
        self.since = since

    def count(self, channel: str) -> int:
        from pfdrill.model.detection import Channel
        from pfdrill.sink.client import SinkClient

        try:
            chosen = Channel(channel)
        except ValueError:
            return 0
        return len(SinkClient(self.url).records(chosen, since=self.since))


class Session:
    """One sandbox, any number of :meth:`run` calls; close it (or use ``with``)."""

    def __init__(self, book: Runbook, env: Environment, client: ClusterClient,
                 drill: DrillVars | None = None, options: Options | None = None,
                 observer: FabricObserver | None = None,
                 counter: expect.NotificationCounter | None = None,
                 t0: float | None = None) -> None:
        self.book = book
        self.env = env
        self.client = client
        self.drill = drill or DrillVars()
        self.options = options or Options()
        self.t0 = time.monotonic() if t0 is None else t0
        self._index = 0
        self._declared = False
        self.box = sandbox.create(env, client, book, self.drill, self.options)
        self.audit_counter = AuditCounter()
        self.counter = counter or (SinkCounter(env.sink_url, time.time()) if env.sink_url
                                   else self.audit_counter)
        self.observer = observer if observer is not None else KubectlLogObserver(
            env.kubectl_path(), self.box.env, env.namespace, "app=sidecar-watcher")
        self.ctx = verify.Context(client, self.observer, self.options, env.namespace)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.box.close(keep=self.options.keep_sandbox)

    @property
    def root(self) -> Path:
        return self.box.root

    # running ------------------------------------------------------------------------------
    def run(self, sections: tuple[Section, ...], header: RecordHeader | None = None) -> RunbookRun:
        """Run ``sections`` in order; their expectations are checked after each section."""
        plan = expect.plan(sections, self.book.source)
        if not any(s.commands for s in sections):
            names = ", ".join(s.name for s in sections) or "(none)"
            raise InvalidInput(f"no commands to run in: {names}", file=self.book.source)
        self._declare(sections)
        results: list[CommandResult] = []
        expectations: list[ExpectationResult] = []
        for section in sections:
            ran: list[CommandResult] = []
            for command in section.commands:
                result = self.run_command(command)
                ran.append(result)
                results.append(result)
            for e in plan.get(section.name, ()):
                expectations.append(self._expectation(e, ran))
        hdr = header or RecordHeader.create(cluster=self.env.context, context=self.env.context,
                                            provider="")
        return RunbookRun(header=hdr, runbook=self.book.source, sha256=self.book.sha256,
                          severity=self.drill.severity, sections=tuple(s.name for s in sections),
                          sandbox=str(self.root), results=tuple(results),
                          expectations=tuple(expectations),
                          not_run=tuple(b for s in sections for b in s.not_run))

    def _declare(self, sections: tuple[Section, ...]) -> None:
        """Run alone, a later section (post-mortem, communication) needs the incident to exist.

        When nothing chosen declares it and no earlier run of this session did, the drill's
        incident is declared in the sandbox's store first, as the responder would have.
        """
        if self._declared or not self.drill.incident_id:
            return
        if any("incident create" in c.text for s in sections for c in s.commands):
            self._declared = True
            return
        done = subprocess.run(
            [str(self.root / "pfctl"), "incident", "create", "--incident-id", self.drill.incident_id,
             "--severity", self.drill.severity, "--description", self.drill.description],
            cwd=self.root, env={k: v for k, v in self.box.env.items() if k != "PFDRILL_AUDIT"},
            capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0 and "already exists" not in done.stderr:
            self.box.notes.append(f"could not declare {self.drill.incident_id}: "
                                  f"{done.stderr.strip()}")
        self._declared = True

    def _expectation(self, e: expect.Expectation, ran: list[CommandResult]) -> ExpectationResult:
        last = next((r for r in reversed(ran) if r.outcome is not CommandOutcome.NOT_EXECUTABLE),
                    ran[-1] if ran else None)
        applies, why = e.applies(self.box.env)
        if applies:
            settle = self.options.settle_seconds if e.kind is expect.Kind.DEPLOYMENT else 2.0
            seen = expect.evaluate(e, self.client, self.env.namespace, self.counter, settle)
        else:
            seen = expect.Observation(True, "not judged")
        return ExpectationResult(
            section=e.section, line=e.directive.line, text=e.directive.text, ok=seen.ok,
            observed=seen.observed, after_line=last.command.line if last else None,
            after_command=last.command.short() if last else "", skipped=why)

    def run_command(self, command: Command) -> CommandResult:
        self._index += 1
        idx = f"{self._index:03d}"
        cls = intent.classify(command.text)
        streaming = intent.streams(command.text)
        started = _now()
        at = time.monotonic() - self.t0
        cwd = Path((self.box.private / "cwd").read_text().strip() or self.root)
        missing = missing_inputs(command, cwd)
        if missing:
            reason = (f"needs the operator-written file {missing[0]}, which the runbook does not "
                      f"create (supply it with --inputs DIR)")
            return self._record(command, cls.intent, CommandOutcome.NOT_EXECUTABLE, reason, None,
                                started, at, 0.0)
        script = self.box.private / "out" / f"{idx}.sh"
        script.write_bytes(_PROLOGUE.encode() + parser.encode_command(self.book, command.text)
                           + b"\n")
        out_path = self.box.private / "out" / f"{idx}.stdout"
        err_path = self.box.private / "out" / f"{idx}.stderr"
        before = _snapshot(self.root)
        timeout = (self.options.stream_seconds + 20.0) if streaming else self.options.command_timeout
        t_start = time.monotonic()
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(
                ["bash", "--noprofile", "--norc", str(script)], cwd=self.root,
                env={**self.box.env, "PFDRILL_CMD_INDEX": idx}, stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, start_new_session=True,
                preexec_fn=lineage.die_with_parent)  # a SIGKILLed pfdrill takes its shell
            timed_out = False
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                self._kill_group(proc)
            except BaseException:
                self._kill_group(proc)  # Ctrl-C or SIGTERM: never leave a runbook command behind
                raise
            self._kill_group(proc, grace=0.0)  # background jobs the command left behind
        duration = time.monotonic() - t_start
        status_file = self.box.private / "out" / f"{idx}.status"
        exit_status: int | None = None
        pipe: tuple[int, ...] = ()
        if status_file.exists():
            lines = [*status_file.read_text().splitlines(), "", ""]
            exit_status = int(lines[0]) if lines[0].lstrip("-").isdigit() else None
            pipe = tuple(int(p) for p in lines[1].split() if p.lstrip("-").isdigit())
        elif not timed_out:
            exit_status = proc.returncode
        stdout, cut_out = _read_bounded(out_path, self.options.output_limit)
        stderr, cut_err = _read_bounded(err_path, self.options.output_limit)
        stderr = self._map_lines(stderr, script.name, command.line)
        calls = audit.read(self.box.audit, idx)
        self.audit_counter.add(calls)
        after = _snapshot(self.root)
        written = tuple((p, after[p][1]) for p in sorted(after) if before.get(p) != after[p])
        observed = judge.Observed(command, cls, exit_status, timed_out, streaming, timeout,
                                  calls, written, stderr, stdout[-4000:])
        verdict = judge.judge(observed, self.ctx)
        bounded = streaming and (timed_out or any(c.bounded for c in calls))
        return self._record(command, cls.intent, verdict.outcome, verdict.reason, exit_status,
                            started, at, duration, stdout=self._redact(stdout),
                            stderr=self._redact(stderr), truncated=cut_out or cut_err,
                            bounded=bounded, pipe=pipe, calls=calls, checks=verdict.checks)

    def _record(self, command: Command, purpose: Intent, outcome: CommandOutcome, reason: str,
                exit_status: int | None, started: dt.datetime, at: float, duration: float,
                *, stdout: str = "", stderr: str = "", truncated: bool = False,
                bounded: bool = False, pipe: tuple[int, ...] = (),
                calls: tuple[audit.Call, ...] = (),
                checks: tuple[EffectCheck, ...] = ()) -> CommandResult:
        result = CommandResult(
            command=command, intent=purpose, outcome=outcome, reason=self._redact(reason),
            exit_status=exit_status, started_wall=started.isoformat(), at=at,
            duration_s=duration, stdout=stdout, stderr=stderr, truncated=truncated,
            bounded=bounded, pipe_status=pipe, tool_calls=tuple(c.record for c in calls),
            checks=checks,
        )
        self._timeline(result)
        return result

    def _timeline(self, result: CommandResult) -> None:
        """The incident timeline pfctl's post-mortem charts: one line per runbook command."""
        path = Path(self.box.env["PFCTL_TIMELINE"])
        entry = {"at": result.started_wall, "kind": "runbook", "section": result.command.section,
                 "what": result.command.short(60), "outcome": result.outcome.value,
                 "incident_id": self.drill.incident_id}
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    @staticmethod
    def _kill_group(proc: subprocess.Popen[bytes], grace: float = 3.0) -> None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return
        if grace:
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()

    def _redact(self, text: str) -> str:
        for name in WEBHOOKS:
            value = self.box.env.get(name)
            if value:
                text = text.replace(value, f"${name}")
        return text

    def _map_lines(self, stderr: str, script: str, first_line: int) -> str:
        """bash's ``003.sh: line 14:`` → the runbook's own file and line."""
        src = Path(self.book.source).name

        def repl(m: re.Match[str]) -> str:
            n = int(m.group(1)) - _PROLOGUE_LINES + first_line - 1
            return f"{src}: line {n}:"
        return re.sub(rf"\S*{re.escape(script)}: line (\d+):", repl, stderr)
