"""CLI conventions: every command takes --json; --version and shell completion work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from pfdrill import __version__
from pfdrill.cli import build_app, main

REPO = Path(__file__).resolve().parents[2]


def _leaves(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    subs = getattr(command, "commands", None)
    if not subs:
        return [(" ".join(path), command)]
    return [leaf for name, sub in subs.items() for leaf in _leaves(sub, (*path, name))]


def test_every_command_takes_json() -> None:
    leaves = _leaves(typer.main.get_command(build_app()))
    assert len(leaves) > 30
    missing = [name for name, cmd in leaves
               if "--json" not in {o for p in cmd.params for o in getattr(p, "opts", ())}]
    assert missing == [], f"commands without --json: {missing} (see pfdrill.cli.output)"


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_json_output_is_one_document(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PFDRILL_STATE_DIR", str(tmp_path / "state"))
    assert _json(capsys, "drill", "validate", str(REPO / "drills" / "weekly.yaml"))[1] == {
        "file": str(REPO / "drills" / "weekly.yaml"), "suite": "weekly",
        "drills": ["adapter-fail-open", "certificate-corruption", "high-reject-rate",
                   "enforcement-disabled-drift", "dfa-tampering"]}
    assert _json(capsys, "report", "list", "--reports", str(tmp_path / "none")) == (0, [])
    code, runtime = _json(capsys, "runtime", "status", "--name", "nothing-here")
    assert code == 1 and runtime == {"name": "nothing-here", "pid": None, "running": False,
                                     "pods": {}}
    code, faults = _json(capsys, "fault", "validate", str(REPO / "scenarios" / "adapter-failure.json"))
    assert code == 0 and faults == {"valid": [str(REPO / "scenarios" / "adapter-failure.json")]}
    code, listing = _json(capsys, "fabric", "render", "--target", "existing")
    assert code == 0 and isinstance(listing, dict) and listing["kind"] == "List"
    assert {i["kind"] for i in listing["items"]} >= {"Namespace", "Deployment", "ConfigMap"}


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"pfdrill {__version__}\n"


def test_shell_completion_completes_commands() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), _PFDRILL_COMPLETE="complete_bash",
               COMP_WORDS="pfdrill fab", COMP_CWORD="1")
    done = subprocess.run([sys.executable, "-c", "from pfdrill.cli import entrypoint; entrypoint()"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.split() == ["fabric"], done.stderr
