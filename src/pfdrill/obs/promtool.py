"""Run Debian's ``promtool``: check rule files, run rule unit tests."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pfdrill.errors import EnvironmentProblem, InvalidInput


def binary() -> str:
    found = os.environ.get("PFDRILL_PROMTOOL") or shutil.which("promtool") or "/usr/bin/promtool"
    if not Path(found).is_file():
        raise EnvironmentProblem("promtool not found (apt-get install prometheus)")
    return found


def _run(args: Sequence[str], cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [binary(), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise EnvironmentProblem(f"promtool {args[0]} {args[1]} took longer than {timeout:g}s") from exc


def check_rules(path: Path, source: Path | None = None) -> int:
    """``promtool check rules``; return the number of rules, or raise naming the file.

    ``source`` is the file to blame in the message (the rule source a rendered
    file came from); promtool's own ``line:column`` is kept in the text.
    """
    done = _run(["check", "rules", str(path)])
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
        detail = next((ln for ln in lines if str(path) in ln or ln.startswith(path.name)), None)
        detail = detail or next((ln for ln in lines if "FAILED" not in ln and "Checking" not in ln),
                                "promtool check rules failed")
        detail = detail.replace(f"{path}: ", "").replace(f"{path.name}: ", "")
        blame = source or path
        where = re.match(r"^(\d+):\d+: (.*)$", detail)
        if where is None:
            raise InvalidInput(f"promtool check rules: {detail}", file=blame)
        line = int(where.group(1))
        try:
            text: str | None = blame.read_text(encoding="utf-8").splitlines()[line - 1]
        except (OSError, IndexError):
            text = None
        raise InvalidInput(f"promtool check rules: {where.group(2)}", file=blame, line=line, text=text)
    found = [ln for ln in done.stdout.splitlines() if "SUCCESS" in ln]
    digits = "".join(ch for ch in (found[0] if found else "") if ch.isdigit())
    return int(digits) if digits else 0


@dataclasses.dataclass(frozen=True)
class RuleTestRun:
    passed: dict[Path, bool]  # per test file
    output: str  # promtool's stdout and stderr, for a failure message

    @property
    def ok(self) -> bool:
        return bool(self.passed) and all(self.passed.values())

    def failed(self) -> list[Path]:
        return [p for p, ok in self.passed.items() if not ok]


def run_tests(files: Sequence[Path], cwd: Path | None = None, workers: int | None = None) -> RuleTestRun:
    """``promtool test rules`` over many files; which files passed.

    The files are split over one promtool process per CPU. promtool prints
    ``Unit Testing:  <file>`` then ``  SUCCESS`` on stdout for every file that
    passed; failures go to stderr without the file name, so passing is read
    from stdout and everything else counts as failed.
    """
    if not files:
        return RuleTestRun({}, "")
    workers = max(1, min(workers or os.cpu_count() or 1, len(files)))
    chunks = [list(files[i::workers]) for i in range(workers)]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(lambda chunk: _run(["test", "rules", *map(str, chunk)], cwd=cwd), chunks))
    passed: dict[Path, bool] = {Path(f): False for f in files}
    by_name = {str(f): Path(f) for f in files}
    for run in done:
        current: Path | None = None
        for line in run.stdout.splitlines():
            if line.startswith("Unit Testing:"):
                current = by_name.get(line.split(":", 1)[1].strip())
            elif line.strip() == "SUCCESS" and current is not None:
                passed[current] = True
                current = None
    return RuleTestRun(passed, "".join(r.stdout + r.stderr for r in done))
