"""pfctl as the runbook calls it: arguments, exit codes, one-line errors, the audit journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pfdrill.pfctl import cli


@pytest.fixture
def pfctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "pfctl.yaml"
    config.write_text(f"default_env: production\nstate_dir: {tmp_path / 'state'}\n"
                      "environments:\n  production:\n    namespace: production\n")
    monkeypatch.setenv("PFCTL_CONFIG", str(config))
    monkeypatch.delenv("PFDRILL_AUDIT", raising=False)
    monkeypatch.delenv("INCIDENT_ID", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("argv, message", [
    (["frobnicate"], "No such command 'frobnicate'"),
    (["status", "update", "--bogus", "x"], "No such option: --bogus"),
    (["incident", "create", "--severity", "SEV-1"], "Missing option '--description'"),
    (["rotate"], "say what to rotate: --credentials"),
    (["test"], "which suite? --suite NAME"),
    (["status", "--format", "xml"], "'xml' is not one of json, yaml, text"),
])
def test_unknown_or_malformed_arguments_exit_2(pfctl: Path, argv: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("pfctl: error") and message in err and len(err.splitlines()) == 1


def test_an_unknown_environment_lists_the_configured_ones(
        pfctl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--env", "staging"]) == 2
    assert "unknown environment 'staging' (configured: production)" in capsys.readouterr().err


def test_a_missing_input_file_is_named(pfctl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["analyze", "--violations", "violations-x.log"]) == 2
    assert "violations-x.log: violations file does not exist" in capsys.readouterr().err


def test_the_incident_flow_through_the_cli(pfctl: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli.main(["incident", "create", "--severity", "SEV-1", "--description",
                     "Policy enforcement failure detected", "--incident-id", "INC-9"]) == 0
    assert capsys.readouterr().out.strip() == "INC-9"
    assert cli.main(["status", "update", "--status", "investigating"]) == 0
    assert cli.main(["incident", "update", "--incident-id", "INC-9", "--status", "resolved",
                     "--resolution", "restored"]) == 0
    monkeypatch.setenv("INCIDENT_ID", "INC-9")  # after resolution, the drill still names it
    assert cli.main(["meeting", "schedule", "--topic", "Incident INC-9 Follow-up",
                     "--date", "Tue Dec  8 10:00:00 UTC 2026"]) == 0
    assert (pfctl / "meeting-incident-inc-9-follow-up.ics").is_file()
    capsys.readouterr()
    assert cli.main(["incident", "show", "--incident-id", "INC-9"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["incident"]["status"] == "resolved"
    assert [e["kind"] for e in shown["events"]] == ["declared", "status_page", "status",
                                                    "resolution", "meeting"]


def test_validate_rejects_a_tampered_artifact(pfctl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dfa = pfctl / "dfa.json"
    dfa.write_text('{"tampered": true}')
    (pfctl / "dfa.json.sha256").write_text("0" * 64 + "  dfa.json\n")
    # exit 1: a verdict on the artifact (exit 2 stays for bad usage, e.g. a missing file)
    assert cli.main(["validate", "--dfa", str(dfa)]) == 1
    assert "INVALID" in (err := capsys.readouterr().err) and "sha256 mismatch" in err
    assert cli.main(["validate", "--dfa", str(pfctl / "missing.json")]) == 2


def test_certs_verify_rejects_a_corrupted_bundle_file(
        pfctl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = pfctl / "bundle.json"
    bundle.write_text('{"version": 1, "keys": [{"key_id": "x", "algorithm": "ed25519", '
                      '"public_key": "AAAA"}]}')
    assert cli.main(["certs", "verify", "--bundle", str(bundle)]) == 1
    assert "corrupt trust bundle" in capsys.readouterr().err
    assert cli.main(["certs", "verify", "--bundle", str(pfctl / "missing.json")]) == 2


def test_each_call_is_journaled_inside_a_runbook_sandbox(
        pfctl: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audit = pfctl / "audit.jsonl"
    monkeypatch.setenv("PFDRILL_AUDIT", str(audit))
    monkeypatch.setenv("PFDRILL_CMD_INDEX", "007")
    assert cli.main(["incident", "create", "--severity", "SEV-9", "--description", "d"]) == 2
    (record,) = [json.loads(ln) for ln in audit.read_text().splitlines()]
    assert (record["tool"], record["cmd"], record["rc"]) == ("pfctl", "007", 2)
    assert record["argv"][:2] == ["incident", "create"]
    assert "unknown severity 'SEV-9'" in record["stderr"]


def test_a_call_imports_only_the_group_it_names() -> None:
    import subprocess
    import sys

    probe = ("import sys; from pfdrill.pfctl import cli; cli.build_app(['incident', 'show']); "
             "print(sorted(m for m in sys.modules if m.startswith('pfdrill.pfctl.commands.')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "['pfdrill.pfctl.commands.common', " \
        "'pfdrill.pfctl.commands.incident']"
    every = cli.build_app(["--help"])
    names = {g.name for g in every.registered_groups} | {
        c.name for c in every.registered_commands}
    assert names == {*cli.GROUPS, "collect", "analyze", "validate", "rotate"}
