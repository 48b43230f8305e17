"""No secret leaks, proven on the kwok stack (issue 11, Prove).

Unique canary values are planted where a real team keeps secrets:

1. the webhook URLs the runbook posts to: the configured notification sink URL
   carries credentials (``http://hooks:<canary>@127.0.0.1:<port>``), so every
   ``$*_WEBHOOK`` the runbook sees contains the canary;
2. a Secret in the drill namespace (what ``kubectl get secret`` in a runbook
   could read), raw and as Kubernetes stores it (base64);
3. the cluster CA's private key pfdrill keeps in its state dir (its PEM body
   and the raw key, hex and base64);
4. environment variables of the ``pfdrill`` process that are secret by name
   (``*_TOKEN``, ``*_WEBHOOK``, ``*_PASSWORD``).

One short drill of the weekly suite runs through the ``pfdrill`` CLI; then
every artifact it leaves is read as bytes: the reports dir (report.html/json/md,
the evidence bundle, everything in it), the chaos journals, the sink journal,
the history database, the live run journal and everything else pfdrill wrote
under its state dir, whatever it left in its temporary directory (the runbook
sandbox, with its command logs and audit, is removed after each run, so what
it logged lives on in the evidence), and the process's stdout and stderr.
The runbook gets a careless section among its responses that echoes the
webhook it posts to, reads the Secret (base64 and decoded) and cats the CA key:
every planted secret the runbook can reach goes through the drill's output. No canary may
appear in any of them. The only files not scanned are where the secrets live
by design: etcd's data (the Secret itself), the CA key file, and the drill's
restore snapshot (it must hold the Secret to put it back; it is not an
artifact a report or a human reads).
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from test_trust import BIN, NS, REPO, RUNBOOK, _suite, stack

from pfdrill.fabric import authority
from pfdrill.obs import stack as obs_stack
from pfdrill.runbook.inputs import WEBHOOKS

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

__all__ = ["stack"]  # the module fixture shared with test_trust

DRILL = "adapter-fail-open"  # the quickest drill of drills/weekly.yaml
CARELESS = "Drill Leak Check / Careless Commands"
# What a careless runbook does: show the webhook it posts to, read the Secret, look at the CA.
CARELESS_COMMANDS = f"""
echo "posting to $SECURITY_WEBHOOK"
kubectl -n {NS} get secret payments-db -o jsonpath='{{.data.password}}'; echo
kubectl -n {NS} get secret payments-db -o jsonpath='{{.data.password}}' | base64 -d; echo
cat "$PFDRILL_STATE_DIR"/fabric-ca/*/ca.key
"""


def _careless_suite(tmp: Path) -> Path:
    """The weekly suite's quickest drill, its runbook with a careless section among the
    responses: every planted secret the runbook can reach goes through its output."""
    runbook = tmp / "runbook.md"
    runbook.write_text(RUNBOOK.read_text() + "\n\n## Drill Leak Check\n\n"
                       "### 1. Careless Commands\n\n```bash" + CARELESS_COMMANDS + "```\n")
    suite = _suite(tmp, DRILL, runbook)
    doc = yaml.safe_load(suite.read_text())
    spec = doc["drills"][0]["runbook"]
    spec["respond"] = [*spec["respond"], CARELESS]
    suite.write_text(yaml.safe_dump(doc, sort_keys=False))
    return suite


def _canary(what: str) -> str:
    return f"pfdrill-canary-{what}-{uuid.uuid4().hex}"


def _forms(value: str) -> tuple[str, ...]:
    """A value as it could be written: raw, base64 (Secret data), URL-safe base64."""
    raw = value.encode()
    return (value, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode())


def _key_canaries(key_file: Path) -> dict[str, str]:
    """The CA private key's distinctive forms: the PEM body and the raw 32 bytes."""
    pem = key_file.read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    body = "".join(line for line in pem.decode().splitlines() if not line.startswith("-----"))
    return {"ca.key PEM body": body, "ca.key raw (hex)": raw.hex(),
            "ca.key raw (base64)": base64.b64encode(raw).decode()}


def _artifacts(reports: Path, state: Path, cluster: Any) -> list[Path]:
    """Every file the run could have written a secret into; see the module docstring for
    the three places left out on purpose."""
    kept_out = [state / "kwok" / "clusters" / cluster.name / "etcd",
                authority.ca_dir(cluster.context), state / "snapshots"]
    files = [p for p in sorted(reports.rglob("*")) if p.is_file()]
    for p in sorted(state.rglob("*")):
        if p.is_file() and not any(p.is_relative_to(k) for k in kept_out):
            files.append(p)
    return files


def test_a_drill_leaks_no_planted_secret_into_any_artifact(stack: Any, tmp_path: Path) -> None:
    cluster, env = stack
    ep = obs_stack.ObsStack(cluster.name).endpoints()
    assert ep is not None and ep.sink_url and ep.rules_dir
    planted: dict[str, str] = {}

    # (1) webhook URLs: the sink the runbook's webhooks post to is configured with credentials
    planted["webhook URL credentials"] = _canary("webhook")
    host = ep.sink_url.split("//", 1)[1]
    config = tmp_path / "pfdrill.yaml"
    config.write_text(yaml.safe_dump({
        "prometheus_url": ep.prometheus_url, "alertmanager_url": ep.alertmanager_url,
        "sink_url": f"http://hooks:{planted['webhook URL credentials']}@{host}",
        "rules_dir": ep.rules_dir}))

    # (2) a Secret in the drill namespace
    planted["Secret data"] = _canary("secret")
    for made in (["create", "namespace", NS], ["label", "--overwrite", "namespace", NS,
                                              "pfdrill.dev/drills=enabled"]):
        subprocess.run([str(cluster.kubectl), *made], env=cluster.env, capture_output=True,
                       text=True, timeout=60, check=made[0] == "label")
    subprocess.run([str(cluster.kubectl), "-n", NS, "create", "secret", "generic",
                    "payments-db", f"--from-literal=password={planted['Secret data']}"],
                   env=cluster.env, capture_output=True, text=True, timeout=60, check=True)

    # (4) secret environment variables of the pfdrill process
    # pfdrill's temporary files (the runbook sandbox with its logs and audit) go where the
    # scan reads them: whatever the run leaves there is an artifact too
    temp = tmp_path / "tmp"
    temp.mkdir()
    run_env = {**env, "PFDRILL_CONFIG": str(config), "TMPDIR": str(temp)}
    for name in ("PAGERDUTY_TOKEN", "OPS_WEBHOOK", "DB_PASSWORD"):
        planted[f"${name}"] = _canary(name.lower())
        run_env[name] = planted[f"${name}"]

    reports = tmp_path / "reports"
    run = subprocess.run(
        [str(BIN / "pfdrill"), "drill", "run", str(_careless_suite(tmp_path)), "--name",
         cluster.name, "--reports", str(reports)], env=run_env, capture_output=True,
        text=True, timeout=900, check=False, cwd=REPO)
    try:
        subprocess.run([str(cluster.kubectl), "-n", NS, "delete", "secret", "payments-db"],
                       env=cluster.env, capture_output=True, timeout=60, check=False)
    finally:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    # (3) the CA private key: it exists once the fabric is deployed
    key_file = authority.ca_dir(cluster.context) / authority.CA_FILE
    assert key_file.is_file(), key_file
    planted.update(_key_canaries(key_file))

    needles = {form.encode(): what for what, value in planted.items() for form in _forms(value)}
    state = Path(env["PFDRILL_STATE_DIR"])
    files = _artifacts(reports, state, cluster) + [p for p in sorted(temp.rglob("*"))
                                                   if p.is_file()]
    names = {p.name for p in files}
    assert {"report.html", "summary.md", "evidence.json", "junit.xml", "history.sqlite"} <= names, sorted(names)
    assert any(n.endswith(".journal.json") for n in names), sorted(names)
    assert "journal.jsonl" in names, sorted(names)  # the sink's
    # the runbook really used the webhooks carrying the canary: its posts reached the sink
    posted = b"".join(p.read_bytes() for p in files if p.name == "journal.jsonl")
    assert any(f'"/{channel}"'.encode() in posted for channel in WEBHOOKS.values()), posted[-2000:]
    # the careless section ran: its output is in the evidence, with the secrets taken out
    evidence = b"".join(p.read_bytes() for p in files if p.name == "evidence.json")
    assert b"posting to " in evidence, evidence[-2000:]
    found = []
    scanned = 0
    for path in files:
        data = path.read_bytes()
        scanned += len(data)
        found += [f"{what} in {path}" for needle, what in needles.items() if needle in data]
    for stream, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        found += [f"{what} in {stream}" for needle, what in needles.items()
                  if needle in text.encode()]
    print(f"scanned {len(files)} files, {scanned} bytes, and the run's stdout/stderr "
          f"({len(run.stdout) + len(run.stderr)} chars) for {len(planted)} canaries")
    assert found == [], "\n".join(found)
