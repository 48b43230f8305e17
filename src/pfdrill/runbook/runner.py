"""The runbook package's front door: check a runbook, or run its sections one by one for a drill.

``check`` is what ``pfdrill runbook check`` does: parse (all errors before any
change), apply the safety rules, run the chosen sections in one session,
return the :class:`~pfdrill.model.runbook.RunbookRun`. :class:`Runner` keeps
one session per runbook so a drill's phases (respond, recover, follow-up)
share the sandbox, incident store and shell state::

    runner = Runner(env, client, config)
    runner.validate("runbooks/policy-enforcement-incident-response.md", ["Immediate Mitigation"])
    run = runner.run_section(path, "Immediate Mitigation", {"SEVERITY": "SEV-1", ...})
    runner.close()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pfdrill.cluster import guard
from pfdrill.cluster.client import ClusterClient
from pfdrill.model.fabric import RUNBOOK_VARIABLES
from pfdrill.model.runbook import Runbook, RunbookRun, Section
from pfdrill.runbook import executor, expect, parser, selection
from pfdrill.runbook.inputs import DrillVars, Environment, Options
from pfdrill.runbook.observer import FabricObserver
from pfdrill.settings.config import Config


def drill_vars(values: Mapping[str, str]) -> DrillVars:
    """DrillVars from ``SEVERITY=...``-style names (what the drill's responder produces)."""
    return DrillVars(**{field: values[name] for name, field in RUNBOOK_VARIABLES.items() if name in values})


def load(path: str | Path, sections: Sequence[str] = ()) -> tuple[Runbook, tuple[Section, ...]]:
    """Parse and select, raising InvalidInput for any problem; nothing runs."""
    book = parser.parse_file(path)
    chosen = selection.select(book, list(sections))
    expect.plan(chosen, book.source)
    return book, chosen


def check(path: str | Path, env: Environment, client: ClusterClient, config: Config,
          drill: DrillVars, sections: Sequence[str] = (), options: Options | None = None,
          observer: FabricObserver | None = None) -> RunbookRun:
    """Run (part of) a runbook against the drill environment and judge every command."""
    book = parser.parse_file(path)
    chosen = selection.select(book, list(sections))
    expect.plan(chosen, book.source)
    guard.check_context(config, env.context)
    guard.check_namespace(client, env.namespace, config)
    with executor.Session(book, env, client, drill, options, observer=observer) as session:
        return session.run(chosen)


class Runner:
    """Sessions per runbook and drill, kept open across that drill's phases.

    A drill is told apart by its ``INCIDENT_ID``: each drill gets a fresh sandbox
    (shell state, scratch git repository, incident store), so one drill's variables,
    incidents and commits never leak into the next.
    """

    def __init__(self, env: Environment, client: ClusterClient, config: Config,
                 options: Options | None = None, observer: FabricObserver | None = None) -> None:
        self.env = env
        self.client = client
        self.config = config
        self.options = options or Options()
        self.observer = observer
        self._sessions: dict[tuple[str, str], executor.Session] = {}
        self._current: dict[str, tuple[str, str]] = {}
        self._books: dict[str, Runbook] = {}

    def validate(self, runbook: str, sections: Sequence[str]) -> None:
        book = self._books.get(runbook) or parser.parse_file(runbook)
        self._books[runbook] = book
        for name in sections:
            expect.plan(selection.select(book, [name]), book.source)

    def run_section(self, runbook: str, section: str, env: Mapping[str, str]) -> RunbookRun:
        self.validate(runbook, [section])
        book = self._books[runbook]
        current = self._current.get(runbook)
        incident = env.get("INCIDENT_ID") or (current[1] if current else "")
        key = (runbook, incident)
        session = self._sessions.get(key)
        if session is None:
            guard.check_context(self.config, self.env.context)
            guard.check_namespace(self.client, self.env.namespace, self.config)
            session = executor.Session(book, self.env, self.client, drill_vars(env),
                                       self.options, observer=self.observer)
            self._sessions[key] = session
        else:
            session.box.env.update({k: v for k, v in env.items() if k in RUNBOOK_VARIABLES})
        self._current[runbook] = key
        return session.run(selection.select(book, [section]))

    def sandbox(self, runbook: str) -> Path | None:
        """The sandbox of the drill that ran a section of ``runbook`` last."""
        key = self._current.get(runbook)
        s = self._sessions.get(key) if key else None
        return s.root if s else None

    def close(self) -> None:
        for s in self._sessions.values():
            s.close()
        self._sessions.clear()
        self._current.clear()
