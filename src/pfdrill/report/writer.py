"""The report writer: (re)writes ``reports/<run-id>/`` after every drill of a run.

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

from pfdrill.model.result import SuiteResult
from pfdrill.report import bundle, html, junit, markdown
from pfdrill.report.redact import Redactor

JUNIT = "junit.xml"
HTML = "report.html"
MARKDOWN = "summary.md"


def write_file(path: Path, text: str) -> None:
    """Write via a temporary name and a rename, so no reader sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write(directory: Path, suite: SuiteResult, secrets: Iterable[str] = ()) -> SuiteResult:
    """Write all four formats for ``suite`` into ``directory``; return the redacted results."""
    directory.mkdir(parents=True, exist_ok=True)
    clean = Redactor(secrets).record(suite)
    write_file(directory / JUNIT, junit.render(clean))
    write_file(directory / HTML, html.render(clean))
    write_file(directory / MARKDOWN, markdown.render(clean, str(directory)))
    doc = bundle.document(clean, bundle.files(directory))
    write_file(directory / bundle.EVIDENCE, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    write_file(directory / bundle.SUMS, bundle.sums_text(directory))
    return clean


class ReportWriter:
    """Writes a suite run's reports into ``directory`` each time it is given the run so far.

    :class:`pfdrill.drill.suite.SuiteRecorder` hands it the one
    :class:`SuiteResult` of the run after every drill, and the secrets the drill
    environments know (``redact``), so every entry point reaches the reports by
    the same path.
    """

    def __init__(self, directory: Path, *, secrets: Iterable[str] = ()) -> None:
        self.directory = directory
        self.secrets = tuple(secrets)
        self.last: SuiteResult | None = None

    def redact(self, secrets: Iterable[str]) -> None:
        self.secrets = tuple(dict.fromkeys((*self.secrets, *secrets)))

    def write(self, suite: SuiteResult) -> SuiteResult:
        """Write every format for ``suite``; the redacted copy that was written."""
        self.last = write(self.directory, suite, self.secrets)
        return self.last
