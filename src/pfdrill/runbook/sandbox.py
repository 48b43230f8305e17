"""The working directory a runbook runs in: a fresh temp dir per run, set up like a responder's.

Layout (the directory is also a git repository)::

    ./pfctl                     pfdrill's pfctl (the runbook calls ./pfctl)
    artifact/dfa.json           the DFA from ConfigMap dfa-artifact (+ .sha256)
    policy/policy-config.yaml   policy-config as it was when the run began
    docs/runbooks/<runbook>.md  the runbook itself
    drills/schedule.yaml        a copy of the drill schedule and the suites beside it
                                (``pfctl chaos update`` edits the copy: $PFDRILL_SCHEDULE)
    .pfdrill/                   pfdrill's own files (git-ignored): wrappers in bin/,
                                the audit journal, per-command scripts and output,
                                pfctl's config and state (incident store), HOME

The git history holds policy commits from the last two hours, so the
runbook's ``git log --since="2 hours ago" --grep=policy`` and ``pfctl config
diff --baseline HEAD~1`` have something real to show: ``HEAD~1`` is the
policy as it was when the run began.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from pfdrill.cluster.client import ClusterClient
from pfdrill.errors import ClusterError, EnvironmentProblem
from pfdrill.fabric import dfa
from pfdrill.model.fabric import FABRIC
from pfdrill.model.runbook import Runbook
from pfdrill.proc import lineage
from pfdrill.runbook.inputs import DrillVars, Environment, Options
from pfdrill.settings.paths import Paths

PFDRILL_DIR = ".pfdrill"
_WRAPPED = ("kubectl", "curl")


@dataclasses.dataclass
class Sandbox:
    root: Path
    env: dict[str, str]
    notes: list[str]
    _dead_port: socket.socket | None = None

    @property
    def private(self) -> Path:
        return self.root / PFDRILL_DIR

    @property
    def audit(self) -> Path:
        return self.private / "audit.jsonl"

    @property
    def pfctl_state(self) -> Path:
        return self.private / "pfctl-state"

    def close(self, keep: bool = False) -> None:
        if self._dead_port is not None:
            self._dead_port.close()
            self._dead_port = None
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def _write_exec(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


def _git(root: Path, env: dict[str, str], *args: str, when: dt.datetime | None = None) -> None:
    e = dict(env)
    if when is not None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
        e.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    done = subprocess.run(["git", *args], cwd=root, env=e, capture_output=True, check=False)
    if done.returncode != 0:
        raise EnvironmentProblem(f"git {' '.join(args)} failed in the sandbox: "
                                 f"{done.stderr.decode(errors='replace').strip()}")


def _dead_port() -> socket.socket:
    """A bound, never-listening port: proxies pointed at it refuse every connection."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s


def _internal_vars() -> list[str]:
    done = subprocess.run(["bash", "--noprofile", "--norc", "-c", "compgen -v"],
                          env={}, capture_output=True, text=True, check=False)
    return sorted(set(done.stdout.split()))


def _cluster_files(client: ClusterClient, namespace: str, notes: list[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        config = client.get_configmap(namespace, FABRIC.policy_config)
        files["policy/policy-config.yaml"] = yaml.safe_dump(
            dict(sorted(config.items())), default_flow_style=False).encode()
    except ClusterError as exc:
        notes.append(f"policy/policy-config.yaml not created: {exc}")
    try:
        artifact = client.get_configmap(namespace, FABRIC.dfa_artifact)
        for key in (dfa.DFA_KEY, dfa.SHA_KEY):
            if key in artifact:
                files[f"artifact/{key}"] = artifact[key].encode()
    except ClusterError as exc:
        notes.append(f"artifact/dfa.json not created: {exc}")
    return files


def _schedule_copy(env: Environment, root: Path) -> Path | None:
    """Copy the schedule and the suite files beside it: a runbook edits the copy, never the
    project's file, and the change shows in the sandbox's git history."""
    source = Path(env.schedule_file) if env.schedule_file else None
    if source is None or not source.is_file():
        return None
    target = root / "drills"
    target.mkdir(exist_ok=True)
    for p in sorted(source.parent.glob("*.y*ml")):
        shutil.copy2(p, target / p.name)
    return target / source.name


def pfctl_config(env: Environment, state: Path, repo: Path,
                 schedule: Path | None = None) -> dict[str, object]:
    return {
        "default_env": env.namespace,
        "state_dir": str(state),
        "repo": str(repo),
        "environments": {
            env.namespace: {
                "kubeconfig": env.kubeconfig, "context": env.context, "namespace": env.namespace,
                "kubectl": env.kubectl_path(), "sink_url": env.sink_url,
                "prometheus_url": env.prometheus_url, "alertmanager_url": env.alertmanager_url,
                "rules_file": env.rules_file, "rules_configmap": env.rules_configmap,
                "schedule_file": str(schedule or ""),
                "runtime_dir": env.runtime_dir, "watcher_url": env.watcher_url,
            },
        },
    }


def create(env: Environment, client: ClusterClient, book: Runbook, drill: DrillVars,
           options: Options, *, announce: bool = True) -> Sandbox:
    """A fresh sandbox. ``announce=False`` for people (a game day's responders): the
    repository's last commit then records no severity or incident — theirs to declare."""
    root = Path(tempfile.mkdtemp(prefix="pfdrill-runbook-"))
    private = root / PFDRILL_DIR
    for sub in ("bin", "home", "out", "pfctl-state"):
        (private / sub).mkdir(parents=True)
    notes: list[str] = []
    dead = _dead_port()
    proxy = f"http://127.0.0.1:{dead.getsockname()[1]}"
    python = sys.executable

    # The wrappers import the pfdrill that made the sandbox, wherever it was imported from.
    src = Path(__file__).resolve().parents[2]
    for tool in _WRAPPED:
        _write_exec(private / "bin" / tool,
                    f'#!/bin/sh\nPYTHONPATH="{src}" exec "{python}" -m pfdrill.runbook.toolwrap '
                    f'{tool} "$@"\n')
    pfctl = f'#!/bin/sh\nPYTHONPATH="{src}" exec "{python}" -m pfdrill.pfctl "$@"\n'
    _write_exec(private / "bin" / "pfctl", pfctl)
    _write_exec(root / "pfctl", pfctl)
    (private / "internal-vars").write_text("\n".join(_internal_vars()) + "\n")
    (private / "cwd").write_text(str(root))
    schedule = _schedule_copy(env, root)
    (private / "pfctl.yaml").write_text(
        yaml.safe_dump(pfctl_config(env, private / "pfctl-state", root, schedule),
                       sort_keys=False))

    real_curl = shutil.which("curl") or "/usr/bin/curl"
    paths = Paths.from_env()
    base_path = os.pathsep.join(p for p in (str(private / "bin"), str(Path(python).parent),
                                            "/usr/local/bin", "/usr/bin", "/bin") if p)
    sandbox_env = {
        "PATH": base_path,
        "HOME": str(private / "home"),
        "TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "dumb",
        "KUBECONFIG": env.kubeconfig,
        "PFDRILL_CONTEXT": env.context,
        "PFDRILL_SANDBOX": str(root),
        "PFDRILL_DIR": str(private),
        "PFDRILL_AUDIT": str(private / "audit.jsonl"),
        "PFDRILL_REAL_KUBECTL": env.kubectl_path(),
        "PFDRILL_REAL_CURL": real_curl,
        "PFDRILL_STREAM_SECONDS": f"{options.stream_seconds:g}",
        # HOME moves into the sandbox; pfdrill's own state (the cluster's CA) must not.
        "PFDRILL_STATE_DIR": str(paths.state),
        "PFDRILL_CACHE_DIR": str(paths.cache),
        # the run holding the namespace: what its commands start, a next run can stop
        **lineage.carried(),
        # a scheduled drill's canary CA (a mounted Secret): pfctl signs canaries with it
        **({"PFDRILL_CA_DIR": os.environ["PFDRILL_CA_DIR"]}
           if os.environ.get("PFDRILL_CA_DIR") else {}),
        "PFCTL_CONFIG": str(private / "pfctl.yaml"),
        "PFDRILL_NAMESPACE": env.namespace,
        "PFDRILL_WATCH_CONFIGMAP": FABRIC.policy_config,
        "PFDRILL_WATCHER_SELECTOR": FABRIC.watcher_selector,
        "PFDRILL_CONFIG_SECONDS": f"{options.config_seconds:g}",
        "PFCTL_TIMELINE": str(private / "pfctl-state" / "timeline.jsonl"),
        **({"PFDRILL_SCHEDULE": str(schedule)} if schedule is not None else {}),
        # Anything that honours proxies and is not bound for 127.0.0.1 hits a closed port.
        **{k: proxy for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                              "ALL_PROXY", "all_proxy")},
        "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "pfdrill responder", "GIT_AUTHOR_EMAIL": "responder@pfdrill.invalid",
        "GIT_COMMITTER_NAME": "pfdrill responder",
        "GIT_COMMITTER_EMAIL": "responder@pfdrill.invalid",
        **env.webhooks(),
        **drill.env(),
    }
    if not env.sink_url:
        notes.append("no notification sink configured: webhook variables are unset")

    now = dt.datetime.now(dt.UTC)
    _git(root, sandbox_env, "init", "-q", "-b", "main")
    (root / ".git" / "info" / "exclude").write_text(f"{PFDRILL_DIR}/\n/pfctl\n")
    docs = root / "docs" / "runbooks"
    docs.mkdir(parents=True)
    (docs / Path(book.source).name).write_bytes(Path(book.source).read_bytes()
                                                if Path(book.source).is_file() else b"")
    (root / "README.md").write_text("Scratch policy repository for a pfdrill runbook run.\n")
    _git(root, sandbox_env, "add", "-A")
    _git(root, sandbox_env, "commit", "-q", "-m", "Import incident runbooks",
         when=now - dt.timedelta(days=3))
    for rel, content in _cluster_files(client, env.namespace, notes).items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    _git(root, sandbox_env, "add", "-A")
    _git(root, sandbox_env, "commit", "-q", "--allow-empty", "-m",
         "policy: import policy-config and DFA artifact at drill start",
         when=now - dt.timedelta(minutes=90))
    (root / "policy" / "DRILL").parent.mkdir(exist_ok=True)
    (root / "policy" / "DRILL").write_text(
        f"severity: {drill.severity}\nincident: {drill.incident_id or '-'}\nstarted: "
        f"{now.isoformat()}\n" if announce else f"workspace: game day\nstarted: {now.isoformat()}\n")
    _git(root, sandbox_env, "add", "-A")
    _git(root, sandbox_env, "commit", "-q", "-m",
         f"policy: record drill {drill.incident_id or ''} ({drill.severity})".replace("  ", " ")
         if announce else "policy: open the game day workspace",
         when=now - dt.timedelta(minutes=5))

    inputs = options.inputs_path()
    if inputs is not None:
        shutil.copytree(inputs, root, dirs_exist_ok=True)
        notes.append(f"operator inputs copied from {inputs}")
    return Sandbox(root=root, env=sandbox_env, notes=notes, _dead_port=dead)
