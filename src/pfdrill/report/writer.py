"""The report writer: a drill observer that (re)writes ``reports/<run-id>/`` after every drill.

Writing after each drill rather than once at the end means a suite that is
interrupted, or a pfdrill that is killed, still leaves the reports of every
drill that finished. All four formats render from one redacted copy of the
results; files are written to a temporary name and renamed, so a reader never
sees half a report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from pfdrill.model.drill import DrillSpec
from pfdrill.model.evidence import RestoreRecord
from pfdrill.model.header import RecordHeader
from pfdrill.model.result import DrillResult, SuiteResult
from pfdrill.model.timeline import Phase, PhaseRecord
from pfdrill.report import bundle, html, junit, markdown
from pfdrill.report.redact import Redactor

JUNIT = "junit.xml"
HTML = "report.html"
MARKDOWN = "summary.md"


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write(directory: Path, suite: SuiteResult, secrets: Iterable[str] = ()) -> SuiteResult:
    """Write all four formats for ``suite`` into ``directory``; return the redacted results."""
    directory.mkdir(parents=True, exist_ok=True)
    clean = Redactor(secrets).record(suite)
    _write(directory / JUNIT, junit.render(clean))
    _write(directory / HTML, html.render(clean))
    _write(directory / MARKDOWN, markdown.render(clean, str(directory)))
    doc = bundle.document(clean, bundle.files(directory))
    _write(directory / bundle.EVIDENCE, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    _write(directory / bundle.SUMS, bundle.sums_text(directory))
    return clean


class ReportWriter:
    """Observer: keeps the results of a suite run and rewrites its reports as drills finish."""

    def __init__(self, directory: Path, *, run_id: str, suite: str, file: str,
                 secrets: Iterable[str] = ()) -> None:
        self.directory = directory
        self.run_id = run_id
        self.suite = suite
        self.file = file
        self.secrets = tuple(secrets)
        self.results: list[DrillResult] = []
        self._header: RecordHeader | None = None

    def started(self, header: RecordHeader, spec: DrillSpec, run_id: str) -> None:
        self._header = self._header or header

    def phase_started(self, spec: DrillSpec, phase: Phase, budget_s: float) -> None:
        return None

    def phase_completed(self, spec: DrillSpec, record: PhaseRecord) -> None:
        return None

    def restored(self, spec: DrillSpec, record: RestoreRecord) -> None:
        return None

    def finished(self, result: DrillResult) -> None:
        self.results.append(result)
        self.write()

    def suite_result(self) -> SuiteResult:
        header = self._header or (self.results[0].header if self.results else
                                  RecordHeader.create(cluster="", context="", provider=""))
        return SuiteResult(run_id=self.run_id, header=header, suite=self.suite, file=self.file,
                           results=tuple(self.results),
                           duration_s=round(sum(r.duration_s for r in self.results), 3))

    def write(self) -> SuiteResult:
        return write(self.directory, self.suite_result(), self.secrets)
