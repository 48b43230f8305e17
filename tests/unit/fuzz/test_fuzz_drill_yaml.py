"""Drill files (``drills/*.yaml``), checked as ``pfdrill drill validate`` checks them."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fuzzkit import (  # type: ignore[import-not-found]
    DEEP,
    FUZZ,
    alias_bomb,
    parses_or_refuses,
    write,
    yaml_documents,
)
from hypothesis import example, given, settings

from pfdrill.drill import suitefile, wiring
from pfdrill.errors import InvalidInput

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[3]
SEED = (ROOT / "drills" / "weekly.yaml").read_text(encoding="utf-8")
_TMP = Path(tempfile.mkdtemp(prefix="pfdrill-fuzz-drill-"))
shutil.copytree(ROOT / "runbooks", _TMP / "runbooks")  # the seed names ../runbooks/...
FILE = _TMP / "drills" / "fuzzed.yaml"


class RemembersRunbooks:
    """The real runbook checker, each (runbook, sections) asked once: the runbook does not
    change while its drill file is fuzzed, and parsing it per example would take seconds."""

    def __init__(self) -> None:
        self._checker = wiring.RunbookChecker()
        self._seen: dict[tuple[str, tuple[str, ...]], InvalidInput | None] = {}

    def validate(self, runbook: str, sections: Sequence[str]) -> None:
        key = (runbook, tuple(sections))
        if key not in self._seen:
            try:
                self._checker.validate(runbook, sections)
                self._seen[key] = None
            except InvalidInput as exc:
                self._seen[key] = exc
        found = self._seen[key]
        if found is not None:
            raise InvalidInput(found.message, file=found.file, line=found.line, text=found.text)

    def run_section(self, runbook: str, section: str, env: Any) -> Any:
        raise AssertionError("a drill file check runs nothing")


RUNBOOKS = RemembersRunbooks()


def validate(path: Path) -> None:
    """What ``pfdrill drill validate`` does: the file, its runbook sections, its faults."""
    suite = suitefile.load(path)
    suitefile.check(suite, wiring.AnyFault(), RUNBOOKS)
    suitefile.check(suite, wiring.fault_catalog(), RUNBOOKS)


def test_the_seed_is_valid() -> None:
    validate(write(FILE, SEED))


@settings(settings.get_profile(FUZZ))
@given(text=yaml_documents(SEED))
@example(text=alias_bomb())  # the PyYAML loader expanded it in jsonschema: minutes, then memory
@example(text=DEEP)  # the PyYAML loader: RecursionError
def test_drill_files(text: str) -> None:
    parses_or_refuses(lambda: validate(write(FILE, text)), FILE)
