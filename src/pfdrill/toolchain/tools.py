"""Extra developer tools built from Go modules: linters the tests use (actionlint).

Like the cluster toolchain, nothing is downloaded as a binary: ``go install
module@version`` builds it into ``<cache>/tools/<name>-<version>/`` (the cache
is ``$PFDRILL_CACHE_DIR``, default ``~/.cache/pfdrill``), so a second
:func:`ensure` is instant and versions never mix. :func:`find` only looks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from pfdrill.errors import ToolchainError
from pfdrill.settings.paths import Paths
from pfdrill.toolchain import gobuild


@dataclasses.dataclass(frozen=True)
class GoTool:
    name: str
    package: str  # the main package: go install <package>@<version>
    version: str

    def path(self, paths: Paths | None = None) -> Path:
        return (paths or Paths.from_env()).cache / "tools" / f"{self.name}-{self.version}" / \
            self.name


# GitHub Actions workflows (deploy/ci/github/*.yml) are linted with it.
ACTIONLINT = GoTool("actionlint", "github.com/rhysd/actionlint/cmd/actionlint", "v1.7.12")
TOOLS = {t.name: t for t in (ACTIONLINT,)}


def find(name: str, paths: Paths | None = None) -> Path | None:
    tool = TOOLS[name]
    p = tool.path(paths)
    return p if p.is_file() else None


def ensure(name: str, paths: Paths | None = None,
           progress: Callable[[str], None] = lambda _m: None) -> Path:
    """The tool's binary, built on first use (minutes on 2 cores; then cached)."""
    found = find(name, paths)
    if found is not None:
        return found
    tool = TOOLS[name]
    target = tool.path(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    env = {**gobuild.go_env(), "GOBIN": str(target.parent)}
    progress(f"[tools] building {tool.name} {tool.version} from Go modules …")
    gobuild.run_go(["install", f"{tool.package}@{tool.version}"], cwd=target.parent,
                   what=f"building {tool.name} {tool.version}", progress=progress, env=env)
    if not target.is_file():
        raise ToolchainError(f"go install left no {tool.name} in {target.parent}")
    return target


@dataclasses.dataclass(frozen=True)
class WorkflowLint:
    """What checked a workflow file, and what it found (empty: clean)."""

    checker: str  # "actionlint v1.7.12" or "JSON Schema (check-jsonschema, github-workflows)"
    problems: tuple[str, ...]
    note: str = ""  # why the fallback ran, when it did


def lint_workflow(path: Path, paths: Paths | None = None, build: bool = True) -> WorkflowLint:
    """actionlint (built on first use); when it cannot be had, the workflow JSON Schema.

    Never silent: the result names the checker, and when neither can run this raises.
    Used by the tests of every workflow under deploy/ci/github/.
    """
    import subprocess
    import sys

    note = ""
    try:
        binary = ensure("actionlint", paths) if build else find("actionlint", paths)
    except ToolchainError as exc:
        binary, note = None, f"actionlint could not be built ({exc})"
    if binary is not None:
        done = subprocess.run([str(binary), "-no-color", "-oneline", str(path)],
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode not in (0, 1):
            raise ToolchainError(f"actionlint failed to run: {done.stderr.strip()[:300]}")
        return WorkflowLint(f"actionlint {ACTIONLINT.version}",
                            tuple(ln for ln in done.stdout.splitlines() if ln.strip()))
    note = note or "actionlint is not built"
    checker = [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
               "vendor.github-workflows", str(path)]
    try:
        done = subprocess.run(checker, capture_output=True, text=True, timeout=120, check=False)
    except OSError as exc:
        raise ToolchainError(f"{note}, and check-jsonschema cannot run: {exc}") from exc
    if "No module named check_jsonschema" in done.stderr:
        raise ToolchainError(f"{note}, and check-jsonschema is not installed: no workflow check "
                             f"can run")
    problems = () if done.returncode == 0 else tuple(
        ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip())
    return WorkflowLint("JSON Schema (check-jsonschema, github-workflows)", problems, note)
